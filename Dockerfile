# podserve images. Two targets:
#
#   docker build --target cpu -t podserve:cpu .    JRE runtime, CPU backend, no CUDA anywhere
#   docker build --target gpu -t podserve:gpu .    CUDA runtime + the kernels (nvcc) in the jar (the default target)
#
# Every base image is a build argument, so machines that reach no registry can point them at images
# built locally (.ci/base-images.sh does that from Debian packages; the README says how).
#
# The stages are ordered so that the classic builder (which, unlike BuildKit, builds every stage up to
# the target) never touches a CUDA image for --target cpu: build and cpu come first, the CUDA stages
# after them. (On its way to gpu the classic builder therefore also builds cpu, from JRE_IMAGE.)

ARG MAVEN_IMAGE=maven:3.9-eclipse-temurin-17
ARG JRE_IMAGE=eclipse-temurin:17-jre
ARG CUDA_DEVEL_IMAGE=nvidia/cuda:13.1.1-devel-ubuntu24.04
ARG CUDA_RUNTIME_IMAGE=nvidia/cuda:13.1.1-runtime-ubuntu24.04

# ---------------------------------------------------------------------------------------------------
# build: the application without kernels, extracted into Spring Boot's layers.
FROM ${MAVEN_IMAGE} AS build
WORKDIR /src
# The local repository lives outside $HOME so no VOLUME that a Maven image may declare on ~/.m2 can
# discard it between steps. Dependencies first: this layer is reused until pom.xml changes.
COPY pom.xml ./
RUN mvn -B -ntp -q -Dmaven.repo.local=/m2 dependency:go-offline
COPY src/main src/main
# Tests are `mvn verify`'s business, not the image's; -Dpodserve.cuda.skip: no nvcc in this stage.
RUN mvn -B -ntp -Dmaven.repo.local=/m2 -Dmaven.test.skip=true -Dpodserve.cuda.skip=true package \
 && java -Djarmode=tools -jar target/podserve-*.jar extract --layers --application-filename podserve.jar \
        --destination /layers

# ---------------------------------------------------------------------------------------------------
# cpu: a JRE image and the jar. The embedded default model needs nothing else.
FROM ${JRE_IMAGE} AS cpu
# Fixed ids above the ranges distributions hand out (Ubuntu images already have uid 1000), so that
# file permissions on mounted models can name them, and a home of its own: the tokenizer library
# unpacks its native code under ~/.djl.ai on first use (JavaCPP under ~/.javacpp in the gpu image).
RUN groupadd --system --gid 10001 podserve \
 && useradd --system --uid 10001 --gid podserve --create-home --home-dir /home/podserve \
        --shell /usr/sbin/nologin podserve \
 && mkdir -p /app /models
WORKDIR /app
# Rarely changing layers first, so a code change ships only the last, small one.
COPY --from=build /layers/dependencies/ ./
COPY --from=build /layers/spring-boot-loader/ ./
COPY --from=build /layers/snapshot-dependencies/ ./
COPY --from=build /layers/application/ ./
# Spring Boot reads ./application.yml from the working directory; compose mounts the real one over it.
COPY application.yml ./
COPY docker/healthcheck.sh /usr/local/bin/podserve-healthcheck
# Heap sized from the container's memory limit rather than the JVM's default quarter of it; a JVM
# that ran out of memory exits, so the restart policy brings back a clean one.
ENV JDK_JAVA_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
USER podserve
EXPOSE 8080
# bash's /dev/tcp, not curl: the runtime bases are not guaranteed to carry an HTTP client. The start
# period covers start-up of the embedded model; a large checkpoint may need compose to lengthen it.
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 CMD ["/usr/local/bin/podserve-healthcheck"]
ENTRYPOINT ["java", "--add-modules", "jdk.incubator.vector", "-jar", "/app/podserve.jar"]

# ---------------------------------------------------------------------------------------------------
# kernels: cuda-kernels/ built by its Makefile into build/podserve.fatbin.
FROM ${CUDA_DEVEL_IMAGE} AS kernels
# nvcc needs a host compiler and the Makefile needs make; installed only where the image lacks them.
RUN command -v make > /dev/null && command -v g++ > /dev/null \
 || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends make g++ \
     && rm -rf /var/lib/apt/lists/*)
WORKDIR /src/cuda-kernels
COPY cuda-kernels/ ./
RUN make --no-print-directory

# ---------------------------------------------------------------------------------------------------
# build-gpu: the same build with the fatbin packaged (build.sh takes a prebuilt one when no nvcc is on
# the PATH), plus a Java runtime for the CUDA image, which has none.
FROM build AS build-gpu
COPY cuda-kernels/build.sh cuda-kernels/build.sh
COPY --from=kernels /src/cuda-kernels/build/podserve.fatbin cuda-kernels/build/podserve.fatbin
RUN rm -rf /layers \
 && mvn -B -ntp -Dmaven.repo.local=/m2 -Dmaven.test.skip=true package \
 && java -Djarmode=tools -jar target/podserve-*.jar extract --layers --application-filename podserve.jar \
        --destination /layers \
 && jar tf /layers/application/podserve.jar | grep -qx cuda/podserve.fatbin
# The modules the server and its libraries use (jdeps over the jar and its dependencies, plus those
# reached only by reflection: JMX, XML, logging, EC crypto, zip file systems). Java debug attributes
# only: --strip-debug would also strip native symbols, which on some JDKs (Debian's) needs objcopy.
RUN "$JAVA_HOME/bin/jlink" --output /jre --strip-java-debug-attributes --no-header-files --no-man-pages --compress=2 \
        --add-modules java.base,java.compiler,java.desktop,java.instrument,java.logging,java.management,java.naming,java.net.http,java.prefs,java.scripting,java.security.jgss,java.sql,java.xml,jdk.crypto.ec,jdk.incubator.vector,jdk.jfr,jdk.management,jdk.net,jdk.unsupported,jdk.zipfs \
        2>&1 | grep -v 'incubator modules' || true; \
    /jre/bin/java --add-modules jdk.incubator.vector -version

# ---------------------------------------------------------------------------------------------------
# gpu: NVIDIA's CUDA runtime (cudart, cuBLAS) with the jlink runtime and the jar that carries the
# kernels. `podserve.backend: auto` picks CUDA when the container is given a GPU, else the CPU.
FROM ${CUDA_RUNTIME_IMAGE} AS gpu
RUN groupadd --system --gid 10001 podserve \
 && useradd --system --uid 10001 --gid podserve --create-home --home-dir /home/podserve \
        --shell /usr/sbin/nologin podserve \
 && mkdir -p /app /models
COPY --from=build-gpu /jre /opt/java
ENV JAVA_HOME=/opt/java PATH=/opt/java/bin:$PATH
WORKDIR /app
COPY --from=build-gpu /layers/dependencies/ ./
COPY --from=build-gpu /layers/spring-boot-loader/ ./
COPY --from=build-gpu /layers/snapshot-dependencies/ ./
COPY --from=build-gpu /layers/application/ ./
COPY application.yml ./
COPY docker/healthcheck.sh /usr/local/bin/podserve-healthcheck
ENV JDK_JAVA_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
USER podserve
EXPOSE 8080
# Loading a real checkpoint onto the GPU takes longer than the embedded model: a longer start period.
HEALTHCHECK --interval=10s --timeout=5s --start-period=300s --retries=3 CMD ["/usr/local/bin/podserve-healthcheck"]
ENTRYPOINT ["java", "--add-modules", "jdk.incubator.vector", "-jar", "/app/podserve.jar"]
