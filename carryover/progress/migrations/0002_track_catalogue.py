"""The learning tracks every account practises (levels A to Z each)."""

from django.db import migrations

TRACKS = [
    ("addition", "Addition", "+", "Adding facts up to 10 + 10."),
    ("subtraction", "Subtraction", "-", "Taking away facts up to 20 - 10."),
    ("multiplication", "Multiplication", "x", "Times tables up to 12 x 12."),
    ("division", "Division", "/", "Sharing facts up to 144 / 12."),
    ("add-subtract-families", "Add & Subtract Fact Families", "+-", "Three numbers, four facts."),
    ("multiply-divide-families", "Multiply & Divide Fact Families", "x/", "Three numbers, four facts."),
    ("skip-counting", "Skip Counting", "count", "Counting by 2s, 5s, 10s and more."),
    ("mixed-review", "Mixed Review", "mixed", "All four operations together."),
]


def load(apps, schema_editor):
    Track = apps.get_model("progress", "Track")
    for position, (slug, name, operation, description) in enumerate(TRACKS, start=1):
        Track.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "operation": operation,
                "description": description,
                "position": position,
            },
        )


def unload(apps, schema_editor):
    apps.get_model("progress", "Track").objects.filter(slug__in=[t[0] for t in TRACKS]).delete()


class Migration(migrations.Migration):
    dependencies = [("progress", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
