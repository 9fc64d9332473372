"""The Docker backend's Redis image, built offline from the host's own Redis binaries.

No registry is needed: the image is `FROM scratch` with redis-server, redis-cli and redis-check-aof
copied from the host together with every shared library `ldd` lists (and the dynamic loader). Its tag
carries the Redis version and a digest of those files, so a changed binary or library gives a new image
and an unchanged one is built once. A user with a registry names any image with redis-server on its PATH
instead (REDIS_DRILL_IMAGE or `image:` in the environment file), e.g. the official `redis:7.2`.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import BuildError, DockerException, ImageNotFound

from harness.core.engines import SYSTEM_ENGINE, Engine, find_engine
from harness.core.errors import BackendError

STABLE_TAG = "local"  # also given to the built images: docker-compose.yml refers to them by this name
IMAGE_LABEL = "redis-drill.image"


@dataclass(frozen=True, slots=True)
class ImageKind:
    """One image built from host binaries: which, under what name, and what else its rootfs needs."""

    name: str  # what it is, for messages and the image label
    repository: str
    binaries: tuple[str, ...]  # looked up on PATH
    workdir: str  # created empty (with /tmp), and the working directory
    install_hint: str
    entrypoint: str | None = None


REDIS = ImageKind(
    "redis",
    "redis-drill/redis",
    (),  # an engine's binaries, found by harness/core/engines.py (plan_image)
    "/data",
    "install Redis on this machine first (`make setup`, or apt-get install redis-server redis-tools)",
    "redis-server",
)
# The compose lab's exporter and Prometheus: Debian's binaries, which link only libc.
MONITORING = ImageKind(
    "monitoring",
    "redis-drill/monitoring",
    ("prometheus", "promtool", "prometheus-redis-exporter"),
    "/prometheus",
    "install them first (`make setup`, or apt-get install prometheus prometheus-redis-exporter)",
)
REPOSITORY = REDIS.repository

_DOCKERFILE = """\
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin
WORKDIR {workdir}
"""


@dataclass(frozen=True, slots=True)
class ImagePlan:
    """What goes into the image: host file -> path inside it, and the tag that names exactly these files."""

    kind: ImageKind
    files: tuple[tuple[Path, str], ...]
    tag: str
    engine: str = ""  # Redis images: the engine whose binaries they hold


def plan_image(kind: ImageKind = REDIS, engine: Engine | None = None) -> ImagePlan:
    """The image of the host's binaries of `kind`; for Redis nodes, the engine's (default: the system's):
    its server under the names redis-server and redis-check-aof (one multi-call binary: the name picks the
    tool, and --sentinel its sentinel mode), and its client (own or borrowed) as redis-cli."""
    if kind is REDIS:
        engine = engine or find_engine(SYSTEM_ENGINE)
        found = {"redis-server": engine.server, "redis-check-aof": engine.server, "redis-cli": engine.cli}
    else:
        found = {name: Path(p) if (p := shutil.which(name)) else None for name in kind.binaries}
        missing = [name for name, path in found.items() if path is None]
        if missing:
            raise BackendError(
                f"{missing[0]} not found on PATH, so the {kind.name} image cannot be built. "
                f"Hint: {kind.install_hint}"
            )
    binaries = {name: path.resolve() for name, path in found.items() if path is not None}
    files: dict[str, Path] = {f"/usr/local/bin/{name}": path for name, path in binaries.items()}
    for library in shared_libraries(tuple(binaries.values())):
        files[str(library)] = library.resolve()
    digest = hashlib.sha256()
    for inside, host in sorted(files.items()):
        digest.update(inside.encode())
        digest.update(host.read_bytes())
    version = f"{engine.name}-{engine.version}" if engine is not None else "host"
    return ImagePlan(
        kind,
        tuple((host, inside) for inside, host in sorted(files.items())),
        f"{kind.repository}:{version}-{digest.hexdigest()[:12]}",
        engine.name if engine is not None else "",
    )


def shared_libraries(binaries: tuple[Path, ...]) -> list[Path]:
    """Every library ldd resolves for the binaries, the dynamic loader included, as absolute paths."""
    out = subprocess.run(["ldd", *map(str, binaries)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise BackendError(f"ldd failed on {', '.join(map(str, binaries))}: {out.stderr.strip()}")
    found: set[Path] = set()
    for line in out.stdout.splitlines():
        # "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
        match = re.search(r"(?:=>\s+|^\s*)(/\S+)\s+\(0x", line)
        if match:
            found.add(Path(match.group(1)))
    return sorted(found)


def connect() -> docker.DockerClient:
    try:
        client = docker.from_env()
        client.ping()
    except DockerException as exc:
        raise BackendError(
            f"cannot reach the Docker daemon ({exc}). Hint: start Docker Engine and check that this user "
            "may use it (DOCKER_HOST, /var/run/docker.sock)"
        ) from None
    return client


def ensure_image(
    client: docker.DockerClient,
    named: str | None = None,
    *,
    rebuild: bool = False,
    engine: Engine | None = None,
) -> str:
    """The image to run nodes from: `named` if given (it must be present locally), else the one built
    from the engine's binaries (default: the system's redis-server)."""
    if named:
        try:
            client.images.get(named)
        except ImageNotFound:
            raise BackendError(
                f"image {named} is not on this machine. Hint: `docker pull {named}` where a registry is "
                "reachable, or leave the image unset to build one from this machine's Redis "
                "(`drill image build`)"
            ) from None
        return named
    return ensure_built(client, plan_image(REDIS, engine), rebuild)


def ensure_built(client: docker.DockerClient, plan: ImagePlan, rebuild: bool = False) -> str:
    """The planned image, built unless its tag exists; also tagged `<repository>:<engine>`, and the system
    engine's `<repository>:local` too (docker-compose.yml's default)."""
    try:
        if rebuild:
            raise ImageNotFound(plan.tag)
        image = client.images.get(plan.tag)
    except ImageNotFound:
        build_image(client, plan)
        image = client.images.get(plan.tag)
    if plan.engine:
        image.tag(plan.kind.repository, plan.engine)
    if plan.kind is not REDIS or plan.engine == find_engine(SYSTEM_ENGINE).name:
        image.tag(plan.kind.repository, STABLE_TAG)
    return plan.tag


def build_image(client: docker.DockerClient, plan: ImagePlan) -> str:
    with tempfile.TemporaryDirectory(prefix="redis-drill-image-") as tmp:
        context = Path(tmp)
        for host, inside in plan.files:
            target = context / "rootfs" / inside.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(host, target)
        (context / "rootfs" / plan.kind.workdir.lstrip("/")).mkdir(exist_ok=True)
        (context / "rootfs" / "tmp").mkdir(exist_ok=True)
        (context / "rootfs" / "tmp").chmod(0o1777)
        entry = f'ENTRYPOINT ["{plan.kind.entrypoint}"]\n' if plan.kind.entrypoint else ""
        (context / "Dockerfile").write_text(_DOCKERFILE.format(workdir=plan.kind.workdir) + entry)
        try:
            client.images.build(
                path=str(context), tag=plan.tag, labels={IMAGE_LABEL: plan.kind.name}, rm=True, forcerm=True
            )
        except (BuildError, DockerException) as exc:
            raise BackendError(f"building {plan.tag} failed: {exc}") from None
    return plan.tag
