from django.http import HttpRequest, HttpResponse


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("carryover")


def sign_in(request: HttpRequest) -> HttpResponse:
    return HttpResponse("sign in")
