"""Throw-away local services for tests and the demo: an SFTP server (OpenSSH's sshd when
installed, else a paramiko SFTP server in a thread) and a PostgreSQL cluster (initdb/pg_ctl,
run as the `postgres` user when we are root). All listen on 127.0.0.1, random ports."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return True
        time.sleep(0.1)
    return False


# ------------------------------------------------------------------ SFTP
def sshd_binary() -> str | None:
    for cand in ("/usr/sbin/sshd", shutil.which("sshd")):
        if cand and os.path.exists(cand):
            return cand
    return None


def sftp_server_binary() -> str | None:
    for cand in (
        "/usr/lib/openssh/sftp-server",
        "/usr/libexec/openssh/sftp-server",
        "/usr/lib/ssh/sftp-server",
    ):
        if os.path.exists(cand):
            return cand
    return None


@dataclass
class SftpService:
    """Connection details; the client key file path and known_hosts file are on disk."""

    host: str
    port: int
    username: str
    client_key_path: str
    known_hosts: str
    root: Path  # local directory the SFTP user writes into
    remote_dir: str  # that directory as seen over SFTP
    kind: str  # "openssh" or "paramiko"
    _stop: list = field(default_factory=list, repr=False)

    def stop(self) -> None:
        for fn in reversed(self._stop):
            with contextlib.suppress(Exception):
                fn()


def _keypair(directory: Path, name: str) -> tuple[str, str]:
    import paramiko

    key = paramiko.RSAKey.generate(2048)
    path = directory / name
    key.write_private_key_file(str(path))
    os.chmod(path, 0o600)
    return str(path), f"{key.get_name()} {key.get_base64()}"


def start_sftp(workdir: Path, prefer_openssh: bool = True) -> SftpService:
    workdir.mkdir(parents=True, exist_ok=True)
    if prefer_openssh and sshd_binary() and sftp_server_binary():
        try:
            return _start_openssh(workdir)
        except (RuntimeError, OSError):
            pass  # e.g. sshd refuses to run in this sandbox: use the paramiko server
    return _start_paramiko(workdir)


def _start_openssh(workdir: Path) -> SftpService:
    user = pwd.getpwuid(os.getuid()).pw_name
    port = free_port()
    host_key, host_pub = _keypair(workdir, "host_key")
    client_key, client_pub = _keypair(workdir, "client_key")
    auth = workdir / "authorized_keys"
    auth.write_text(client_pub + "\n")
    os.chmod(auth, 0o600)
    root = workdir / "drop"
    root.mkdir(exist_ok=True)
    config = workdir / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                f"AuthorizedKeysFile {auth}",
                f"PidFile {workdir / 'sshd.pid'}",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "PermitRootLogin prohibit-password",
                "StrictModes no",
                "UsePAM no",
                f"Subsystem sftp {sftp_server_binary()}",
                "",
            ]
        )
    )
    # sshd refuses to start without its privilege-separation directory
    with contextlib.suppress(OSError):
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    log = workdir / "sshd.log"
    proc = subprocess.Popen(
        [sshd_binary(), "-D", "-e", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"),  # noqa: SIM115
    )
    if not _wait_port(port) or proc.poll() is not None:
        proc.kill()
        raise RuntimeError(f"sshd did not start: {log.read_text()[-500:]}")
    known = workdir / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {host_pub}\n")

    def stop() -> None:
        proc.terminate()
        proc.wait(10)

    return SftpService(
        "127.0.0.1", port, user, client_key, str(known), root, str(root), "openssh", [stop]
    )


def _start_paramiko(workdir: Path) -> SftpService:
    import paramiko

    host_key_path, host_pub = _keypair(workdir, "host_key")
    client_key, client_pub = _keypair(workdir, "client_key")
    host_key = paramiko.RSAKey(filename=host_key_path)
    allowed = client_pub.split()[1]
    root = workdir / "drop"
    root.mkdir(exist_ok=True)

    class Server(paramiko.ServerInterface):
        def check_auth_publickey(self, username, key):
            if key.get_base64() == allowed:
                return paramiko.AUTH_SUCCESSFUL
            return paramiko.AUTH_FAILED

        def get_allowed_auths(self, username):
            return "publickey"

        def check_channel_request(self, kind, chanid):
            return paramiko.OPEN_SUCCEEDED if kind == "session" else 0

    class Handle(paramiko.SFTPHandle):
        def stat(self):
            return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))

    class Sftp(paramiko.SFTPServerInterface):
        def _local(self, path):
            return str(root / path.lstrip("/").removeprefix(str(root).lstrip("/")).lstrip("/"))

        def open(self, path, flags, attr):
            local = self._local(path)
            mode = "wb" if flags & os.O_WRONLY or flags & os.O_RDWR else "rb"
            try:
                f = open(local, mode)  # noqa: SIM115
            except OSError as e:
                return paramiko.SFTPServer.convert_errno(e.errno)
            h = Handle(flags)
            h.filename = local
            h.readfile = f
            h.writefile = f if "w" in mode else None
            return h

        def rename(self, old, new):
            os.replace(self._local(old), self._local(new))
            return paramiko.SFTP_OK

        def posix_rename(self, old, new):
            return self.rename(old, new)

        def list_folder(self, path):
            local = self._local(path)
            return [
                paramiko.SFTPAttributes.from_stat(os.stat(os.path.join(local, n)), n)
                for n in os.listdir(local)
            ]

        def stat(self, path):
            try:
                return paramiko.SFTPAttributes.from_stat(os.stat(self._local(path)))
            except OSError as e:
                return paramiko.SFTPServer.convert_errno(e.errno)

        lstat = stat

        def remove(self, path):
            os.remove(self._local(path))
            return paramiko.SFTP_OK

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(10)
    port = sock.getsockname()[1]
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                client, _ = sock.accept()
            except OSError:
                return
            t = paramiko.Transport(client)
            t.add_server_key(host_key)
            t.set_subsystem_handler("sftp", paramiko.SFTPServer, Sftp)
            t.start_server(server=Server())

    threading.Thread(target=serve, daemon=True).start()
    known = workdir / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {host_pub}\n")

    def stop() -> None:
        stopping.set()
        sock.close()

    user = pwd.getpwuid(os.getuid()).pw_name
    return SftpService(
        "127.0.0.1", port, user, client_key, str(known), root, "/", "paramiko", [stop]
    )


# ------------------------------------------------------------------ PostgreSQL
def postgres_bindir() -> str | None:
    for cand in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(cand, "initdb")):
            return cand
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


@dataclass
class PostgresService:
    dsn: str
    port: int
    datadir: Path
    _stop: list = field(default_factory=list, repr=False)

    def stop(self) -> None:
        for fn in reversed(self._stop):
            with contextlib.suppress(Exception):
                fn()


def start_postgres(workdir: Path | None = None) -> PostgresService:
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL binaries (initdb, pg_ctl) not found")
    if os.geteuid() == 0 or workdir is None:
        # as root the cluster runs as `postgres`, which cannot enter root's private temp dirs
        base = Path(tempfile.mkdtemp(prefix="cdp-pg-"))
    else:
        base = Path(workdir)
        base.mkdir(parents=True, exist_ok=True)
    datadir = base / "data"
    port = free_port()
    run_as: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root: hand the directory to the postgres user
        user = "postgres"
        try:
            pw = pwd.getpwnam(user)
        except KeyError:
            raise RuntimeError("running as root but no `postgres` user exists") from None
        os.chown(base, pw.pw_uid, pw.pw_gid)
        os.chmod(base, 0o700)
        run_as = ["runuser", "-u", user, "--"]
    else:
        user = pwd.getpwuid(os.getuid()).pw_name
    init = subprocess.run(
        [*run_as, f"{bindir}/initdb", "-D", str(datadir), "-U", "cdp", "-A", "trust", "-E", "UTF8"],
        capture_output=True,
        text=True,
    )
    if init.returncode != 0:
        raise RuntimeError(f"initdb failed: {init.stderr[-500:]}")
    log = base / "pg.log"
    subprocess.run(
        [
            *run_as,
            f"{bindir}/pg_ctl",
            "-D",
            str(datadir),
            "-l",
            str(log),
            "-w",
            "-o",
            f"-p {port} -h 127.0.0.1 -k {base}",
            "start",
        ],
        check=True,
        capture_output=True,
    )

    def stop() -> None:
        subprocess.run(
            [*run_as, f"{bindir}/pg_ctl", "-D", str(datadir), "-m", "fast", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(base, ignore_errors=True)

    return PostgresService(
        f"host=127.0.0.1 port={port} user=cdp dbname=postgres", port, datadir, [stop]
    )
