#!/usr/bin/env bash
# Builds, from Debian packages alone, the base images that the Dockerfile's build arguments can point
# at, for machines that reach Debian's mirror and Maven Central but no image registry (CI):
#
#   podserve-base/debian:bookworm   debootstrap --variant=minbase, imported with `docker import`
#   podserve-base/jre:17            + openjdk-17-jre-headless           (JRE_IMAGE: the CPU runtime)
#   podserve-base/maven:17          + openjdk-17-jdk-headless, maven    (MAVEN_IMAGE: the build)
#
# With --cuda, and only where a CUDA toolkit is installed on this machine (CUDA_HOME, default
# /usr/local/cuda), two stand-ins for NVIDIA's images as well, so the GPU target can be built and
# started without a registry (the GPU itself is still absent: the server then falls back to the CPU):
#
#   podserve-base/cuda-devel:local    maven base + g++, make + the host's toolkit   (CUDA_DEVEL_IMAGE)
#   podserve-base/cuda-runtime:local  debian base + the toolkit's libcudart          (CUDA_RUNTIME_IMAGE)
#
# The mirror is the one this machine's apt already uses (read with apt-get indextargets), so no mirror
# is written down here. An image is rebuilt only when this script changed since it was made (a label
# holds the script's hash), so a second run on the same machine costs seconds.
#
# Certificate authorities that this machine added to its trust store are copied in, so that builds in
# these images reach Maven Central over the same network as the machine does.
#
# usage: .ci/base-images.sh [--cuda]      (root, dockerd running, debootstrap installed)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
prefix=podserve-base
suite=bookworm
recipe="$(sha256sum "$here/base-images.sh" | cut -c1-16)"
with_cuda=false
[[ "${1:-}" == "--cuda" ]] && with_cuda=true

current() {   # true when image $1 exists and was made by this very script
    [[ "$(docker image inspect -f '{{index .Config.Labels "podserve.base.recipe"}}' "$1" 2>/dev/null)" == "$recipe" ]]
}

# --- the Debian root file system -------------------------------------------------------------------
if ! current "$prefix/debian:$suite"; then
    # The archive that serves "$suite main" and, when the machine has them, its -updates and -security
    # suites; the image's apt gets the same lines so that later `apt-get install`s see security fixes.
    # (awk, not grep -q: grep would stop reading early and apt-get would die of SIGPIPE under pipefail.)
    sources="$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
        | awk -v s="$suite" '$3 == "main" && ($2 == s || $2 == s "-updates" || $2 == s "-security") { print "deb " $1 " " $2 " main" }' \
        | sort -u)"
    mirror="$(awk -v s="$suite" '$3 == s { print $2; exit }' <<< "$sources")"
    if [[ -z "$mirror" ]]; then
        echo "base-images: this machine's apt knows no '$suite main' archive (run apt-get update first)" >&2
        exit 1
    fi
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    echo "base-images: debootstrap $suite from $mirror"
    debootstrap --variant=minbase "$suite" "$work/rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 \
        || { tail -30 "$work/debootstrap.log"; exit 1; }
    printf '%s\n' "$sources" > "$work/rootfs/etc/apt/sources.list"
    # Certificate authorities this machine added to its own trust store (a TLS-inspecting egress
    # proxy's, say) go along: Maven inside a build reaches Central through the same network. The
    # ca-certificates package, installed with the JRE below, folds them into the system and Java stores.
    if compgen -G '/usr/local/share/ca-certificates/*' > /dev/null; then
        cp -r /usr/local/share/ca-certificates/. "$work/rootfs/usr/local/share/ca-certificates/"
    fi
    # Images carry no package lists or downloaded .debs: each RUN that installs does apt-get update.
    rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/archives/"*.deb
    tar -C "$work/rootfs" --numeric-owner -c . | docker import \
        --change 'ENV LANG=C.UTF-8' --change 'CMD ["bash"]' \
        --change "LABEL podserve.base.recipe=$recipe" - "$prefix/debian:$suite" > /dev/null
    rm -rf "$work"
    trap - EXIT
fi

# Derived images: a Dockerfile on stdin, no build context unless one is named. Their output goes to a
# log that is shown only when the build fails.
build() {   # build TAG [CONTEXT_DIR]     (Dockerfile on stdin)
    local tag="$1" log
    if current "$tag"; then
        echo "base-images: $tag is current"
        return
    fi
    echo "base-images: building $tag"
    log="$(mktemp)"
    if [[ -n "${2:-}" ]]; then
        docker build --label "podserve.base.recipe=$recipe" -t "$tag" -f - "$2" > "$log" 2>&1 || { tail -40 "$log"; exit 1; }
    else
        docker build --label "podserve.base.recipe=$recipe" -t "$tag" - > "$log" 2>&1 || { tail -40 "$log"; exit 1; }
    fi
    rm -f "$log"
}

# DEBIAN_FRONTEND only for the install, so that the images do not carry it.
apt_install='apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends'
apt_clean='rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb'
jvm=/usr/lib/jvm/java-17-openjdk-amd64

build "$prefix/jre:17" <<EOF
FROM $prefix/debian:$suite
RUN $apt_install openjdk-17-jre-headless && $apt_clean
ENV JAVA_HOME=$jvm
EOF

# bookworm's JDK package carries the jmods that the GPU target's jlink step links from.
build "$prefix/maven:17" <<EOF
FROM $prefix/jre:17
RUN $apt_install openjdk-17-jdk-headless maven && $apt_clean
EOF

if $with_cuda; then
    cuda="$(readlink -f "${CUDA_HOME:-/usr/local/cuda}")"
    if [[ ! -x "$cuda/bin/nvcc" ]]; then
        echo "base-images: --cuda, but no CUDA toolkit at $cuda (set CUDA_HOME): skipping the CUDA stand-ins" >&2
        exit 0
    fi
    # The toolkit becomes the build context of its own image; the recipe label then also has to track
    # the toolkit, so its version joins the hash.
    toolkit_id="$("$cuda/bin/nvcc" --version | tail -1)"
    recipe="$(printf '%s %s' "$recipe" "$toolkit_id" | sha256sum | cut -c1-16)"
    build "$prefix/cuda-devel:local" "$cuda" <<EOF
FROM $prefix/maven:17
RUN $apt_install g++ make && $apt_clean
COPY . /usr/local/cuda
ENV PATH=/usr/local/cuda/bin:\$PATH
EOF
    # Only the runtime library the JNI glue links against; with no device present the server never
    # loads cuBLAS, which the host's toolkit may not have.
    build "$prefix/cuda-runtime:local" "$cuda/lib64" <<EOF
FROM $prefix/debian:$suite
COPY libcudart.so.13* /usr/local/cuda/lib64/
RUN echo /usr/local/cuda/lib64 > /etc/ld.so.conf.d/cuda.conf && ldconfig
EOF
fi
