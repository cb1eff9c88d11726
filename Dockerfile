# Builds vppctl, vppd and vppsim in release mode, then copies them (and the resource bundles beside them: the
# console's templates) into a slim runtime image. Swift 6.2: hummingbird-auth (bcrypt) needs its tools version.
FROM swift:6.2-jammy AS build
WORKDIR /src
COPY Package.swift ./
RUN swift package resolve
COPY Modules ./Modules
COPY Apps ./Apps
COPY Tests ./Tests
RUN swift build -c release --product vppctl && swift build -c release --product vppd && swift build -c release --product vppsim \
 && mkdir /out && cp "$(swift build -c release --show-bin-path)"/vppctl "$(swift build -c release --show-bin-path)"/vppd \
    "$(swift build -c release --show-bin-path)"/vppsim /out/ \
 && cp -R "$(swift build -c release --show-bin-path)"/*.resources /out/

FROM swift:6.2-jammy-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /usr/local/bin/
RUN useradd --system --uid 10001 vpp
USER vpp
WORKDIR /home/vpp
EXPOSE 8080
CMD ["vppd", "serve"]
