# Coordinator image (CPU only): the propeller CLI on Node 20 with the ffmpeg/ffprobe binaries npm ships.
# Build from the repository root:  docker build -f deploy/docker/coordinator.Dockerfile -t propeller/coordinator:0.1.0 .
FROM node:20.18.1-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    # The coordinator never runs models: no CUDA binaries for onnxruntime-node.
    ONNXRUNTIME_NODE_INSTALL=skip \
    PROPELLER_MODEL_DIR=/var/cache/propeller/models
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && chmod +x node_modules/@ffmpeg-installer/linux-x64/ffmpeg node_modules/@ffprobe-installer/linux-x64/ffprobe \
 && npm cache clean --force
COPY common ./common
COPY coordinator ./coordinator
COPY worker ./worker
COPY models ./models
COPY cli ./cli
COPY proto ./proto
# A numeric user, so Kubernetes' runAsNonRoot can check it (deploy/kubernetes runs pods as 10001).
RUN groupadd --system --gid 10001 propeller && useradd --system --uid 10001 --gid 10001 propeller && mkdir -p /data /var/cache/propeller && chown propeller /data /var/cache/propeller
USER 10001:10001
EXPOSE 7400 9464
ENTRYPOINT ["node", "--import", "tsx", "cli/main.ts"]
CMD ["coordinator", "--listen", "0.0.0.0:7400", "--data-dir", "/data", "--metrics-listen", "0.0.0.0:9464"]
