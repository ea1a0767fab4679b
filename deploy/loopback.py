"""Run this directory's deployment on loopback: nginx (deploy/nginx/carryover.conf) in
front of gunicorn (deploy/gunicorn.conf.py, started by carryover-web.service's own
ExecStart) and the background worker (carryover-worker.service's ExecStart, from
another directory), with the provider sandboxes as a process of their own on another
port, as Clever and ClassLink are.

Used by the CI smoke test (tests/deploy/test_nginx_stack.py) and the go-live load test
(benchmarks/loadtest/). Only the machine-specific parts of the shipped files are
rewritten: /opt/carryover becomes this checkout, ports become free loopback ports, the
certificate paths a self-signed certificate made here for 127.0.0.1. Every process
listens on 127.0.0.1 and is stopped by `stop()` (or the context manager).

    with Stack(workdir, database_url=..., redis_url=...) as stack:
        stack.prepare()          # migrate, collectstatic (production settings)
        stack.start()
        stack.url("/healthz")    # https://127.0.0.1:<port>/healthz through nginx
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unit_command(unit: str, key: str = "ExecStart") -> list[str]:
    """The command line of a shipped systemd unit, pointed at this checkout."""
    text = (DEPLOY / "systemd" / unit).read_text(encoding="utf-8")
    match = re.search(rf"^{key}=(.+)$", text, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"{unit} has no {key}=")
    words = shlex.split(match.group(1))
    out = []
    for word in words:
        word = word.replace("/opt/carryover/.venv/bin/", f"{BIN}/")
        out.append(word.replace("/opt/carryover", str(ROOT)))
    return out


def unit_environment(unit: str) -> dict[str, str]:
    text = (DEPLOY / "systemd" / unit).read_text(encoding="utf-8")
    values: dict[str, str] = {}
    for line in re.findall(r"^Environment=(.+)$", text, re.MULTILINE):
        name, _, value = line.partition("=")
        values[name] = value
    return values


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the operator's certificate stands here)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass
class Stack:
    workdir: Path
    database_url: str
    redis_url: str
    web_workers: int = 2
    web_threads: int = 4
    db_workers: int = 1
    sandbox_workers: int = 2
    clever_data: str | None = None  # SANDBOX_CLEVER_DATA for the sandbox process
    extra_env: dict[str, str] = field(default_factory=dict)
    cache_prefix: str = field(default_factory=lambda: f"stack-{secrets.token_hex(4)}")
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir)
        self.https_port = free_port()
        self.http_port = free_port()
        self.app_port = free_port()
        self.sandbox_port = free_port()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}
        self._log_files: list[IO[bytes]] = []
        for sub in ("var", "static", "worker-home", "nginx", "sandbox", "tls"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        self.cert, self.key = make_certificate(self.workdir / "tls")
        # One id_token signing key for every sandbox worker process (left to itself, each
        # process would make its own on first use, and the JWKS would name only one).
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.sandbox_signing_key = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode()
        )

    # --- addresses ------------------------------------------------------------------
    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def url(self, path: str) -> str:
        return f"{self.origin}{path}"

    @property
    def app_url(self) -> str:
        """gunicorn itself, not through nginx (to prove what an untrusted client can do)."""
        return f"http://127.0.0.1:{self.app_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}/sandbox"

    # --- environments ---------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """Production settings of the web process and the worker."""
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "CARRYOVER_", "SANDBOX_", "CLEVER_", "CLASSLINK_"))
            and k not in ("DATABASE_URL", "REDIS_URL", "TEST_DATABASE_NAME", "DEBUG")
        }
        base.update(
            CARRYOVER_MODE="production",
            DJANGO_SETTINGS_MODULE="carryover.settings",
            SECRET_KEY=self.secret_key,
            ALLOWED_HOSTS="127.0.0.1",
            SITE_URL=self.origin,
            CSRF_TRUSTED_ORIGINS=self.origin,
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            CACHE_KEY_PREFIX=self.cache_prefix,
            TRUSTED_PROXIES="127.0.0.1",
            CARRYOVER_VAR_DIR=str(self.workdir / "var"),
            STATIC_ROOT=str(self.workdir / "static"),
            CLEVER_CLIENT_ID="sandbox-clever-client",
            CLEVER_CLIENT_SECRET="sandbox-clever-secret",  # noqa: S106 - the sandbox's
            CLEVER_AUTH_BASE=f"{self.sandbox_url}/clever",
            CLEVER_API_BASE=f"{self.sandbox_url}/clever",
            CLASSLINK_CLIENT_ID="sandbox-classlink-client",
            CLASSLINK_CLIENT_SECRET="sandbox-classlink-secret",  # noqa: S106
            CLASSLINK_AUTH_BASE=f"{self.sandbox_url}/classlink",
            CLASSLINK_API_BASE=f"{self.sandbox_url}/classlink",
            PYTHONUNBUFFERED="1",
        )
        base.update(self.extra_env)
        return base

    def sandbox_env(self) -> dict[str, str]:
        env = self.env()
        for name in ("CARRYOVER_MODE", "SITE_URL", "TRUSTED_PROXIES"):
            env.pop(name, None)
        env.update(
            CARRYOVER_MODE="development",
            SANDBOX_ENABLED="1",
            SANDBOX_BASE_URL=self.sandbox_url,
            SANDBOX_REDIRECT_URIS=(
                f"{self.origin}/sso/clever/callback,{self.origin}/sso/classlink/callback"
            ),
            DATABASE_URL=f"sqlite:///{self.workdir / 'sandbox' / 'sandbox.sqlite3'}",
            CARRYOVER_VAR_DIR=str(self.workdir / "sandbox"),
            CACHE_KEY_PREFIX=f"{self.cache_prefix}-sandbox",
            ALLOWED_HOSTS="127.0.0.1",
            DEBUG="0",
            LOG_LEVEL="WARNING",
            SANDBOX_SIGNING_KEY=self.sandbox_signing_key,
        )
        if self.clever_data:
            env["SANDBOX_CLEVER_DATA"] = self.clever_data
        return env

    # --- running ----------------------------------------------------------------------
    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 900) -> str:
        """A `carryover` command with the production settings; its output, or an error."""
        result = subprocess.run(  # noqa: S603 - our own console script
            [str(BIN / "carryover"), *args],
            cwd=self.workdir,
            env=env or self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"carryover {' '.join(args)} failed:\n{result.stderr[-4000:]}")
        return result.stdout

    def prepare(self) -> None:
        self.run("migrate", "--noinput", "-v", "0")
        self.run("collectstatic", "--noinput", "-v", "0")

    def _spawn(
        self, name: str, command: list[str], *, env: dict[str, str], cwd: Path
    ) -> subprocess.Popen[bytes]:
        log = self.workdir / f"{name}.log"
        handle = log.open("ab")
        self._log_files.append(handle)
        process = subprocess.Popen(  # noqa: S603 - the shipped units' own commands
            command, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT
        )
        self.processes[name] = process
        self.logs[name] = log
        return process

    def start_sandbox(self) -> None:
        env = self.sandbox_env()
        self.run("migrate", "--noinput", "-v", "0", env=env)
        env.update(
            GUNICORN_BIND=f"127.0.0.1:{self.sandbox_port}",
            GUNICORN_WORKERS=str(self.sandbox_workers),
            GUNICORN_THREADS="8",
            GUNICORN_PROC_NAME="carryover-sandbox",
        )
        command = [
            str(BIN / "gunicorn"),
            "--config",
            str(DEPLOY / "gunicorn.conf.py"),
            "carryover.wsgi",
        ]
        self._spawn("sandbox", command, env=env, cwd=self.workdir / "sandbox")

    def start_web(self) -> None:
        env = self.env()
        env.update(unit_environment("carryover-web.service"))
        env.update(
            CARRYOVER_VAR_DIR=str(self.workdir / "var"),
            GUNICORN_BIND=f"127.0.0.1:{self.app_port}",
            GUNICORN_WORKERS=str(self.web_workers),
            GUNICORN_THREADS=str(self.web_threads),
        )
        self._spawn("web", unit_command("carryover-web.service"), env=env, cwd=ROOT)

    def start_worker(self, index: int = 0) -> subprocess.Popen[bytes]:
        env = self.env()
        env.update(unit_environment("carryover-worker.service"))
        env["CARRYOVER_VAR_DIR"] = str(self.workdir / "var")
        return self._spawn(
            f"worker{index}",
            unit_command("carryover-worker.service"),
            env=env,
            cwd=self.workdir / "worker-home",
        )

    def nginx_site(self) -> str:
        """deploy/nginx/carryover.conf with this stack's ports, certificate and log."""
        site = (DEPLOY / "nginx" / "carryover.conf").read_text(encoding="utf-8")
        replacements = [
            (r"listen 80;", f"listen 127.0.0.1:{self.http_port};"),
            (r"listen \[::\]:80;\n", ""),
            (r"listen 443 ssl;", f"listen 127.0.0.1:{self.https_port} ssl;"),
            (r"listen \[::\]:443 ssl;\n", ""),
            (r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{self.app_port};"),
            (r"/etc/ssl/carryover/fullchain\.pem", str(self.cert)),
            (r"/etc/ssl/carryover/privkey\.pem", str(self.key)),
            (r"/var/log/nginx/carryover\.access\.log", str(self.workdir / "nginx-access.log")),
            (r"shared:carryover_tls:", f"shared:tls{self.https_port}:"),
        ]
        for pattern, replacement in replacements:
            site, count = re.subn(pattern, replacement, site)
            if count == 0:
                raise RuntimeError(f"deploy/nginx/carryover.conf no longer has {pattern!r}")
        return site

    def start_nginx(self) -> None:
        folder = self.workdir / "nginx"
        (folder / "carryover.conf").write_text(self.nginx_site(), encoding="utf-8")
        mime = "/etc/nginx/mime.types"
        user = "user root;\n" if os.geteuid() == 0 else ""
        (folder / "nginx.conf").write_text(
            f"""{user}worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {self.workdir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    {"include " + mime + ";" if Path(mime).exists() else ""}
    default_type application/octet-stream;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/carryover.conf;
}}
""",
            encoding="utf-8",
        )
        test = subprocess.run(  # noqa: S603 - Debian's nginx, our config
            [NGINX, "-t", "-q", "-c", str(folder / "nginx.conf"), "-e", "stderr"],
            capture_output=True,
            text=True,
            check=False,
        )
        if test.returncode != 0:
            raise RuntimeError(f"nginx -t refused the site:\n{test.stderr}")
        self._spawn(
            "nginx",
            [NGINX, "-c", str(folder / "nginx.conf"), "-e", "stderr"],
            env=dict(os.environ),
            cwd=folder,
        )

    def start(self) -> None:
        self.start_sandbox()
        self.start_web()
        for index in range(self.db_workers):
            self.start_worker(index)
        self.start_nginx()
        self.wait_until_up()

    def wait_until_up_sandbox(self, timeout: float = 90) -> None:
        self.wait_until_up(timeout, only_sandbox=True)

    def wait_until_up(self, timeout: float = 90, *, only_sandbox: bool = False) -> None:
        import requests

        deadline = time.monotonic() + timeout
        session = requests.Session()
        session.trust_env = False  # loopback only: no proxy, our certificate
        checks: list[tuple[str, str | None]] = [
            (f"{self.sandbox_url}/clever/.well-known/openid-configuration", None),
        ]
        if not only_sandbox:
            checks += [(f"{self.app_url}/healthz", None), (self.url("/healthz"), str(self.cert))]
        for url, verify in checks:
            while True:
                for name, process in self.processes.items():
                    if process.poll() is not None:
                        raise RuntimeError(f"{name} exited:\n{self.tail(name)}")
                try:
                    if session.get(url, timeout=2, verify=verify or True).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} did not answer within {timeout:g} s")
                time.sleep(0.25)

    def tail(self, name: str, size: int = 4000) -> str:
        path = self.logs.get(name)
        return path.read_text(errors="replace")[-size:] if path and path.exists() else ""

    # --- failures on purpose (the load test's second run) -------------------------------
    def web_worker_pids(self) -> list[int]:
        master = self.processes["web"].pid
        children = Path(f"/proc/{master}/task/{master}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def kill(self, name: str) -> None:
        process = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    # --- stopping -----------------------------------------------------------------------
    def stop(self) -> None:
        for _name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        for handle in self._log_files:
            handle.close()
        self._log_files.clear()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
