# GPU worker image: onnxruntime-node with its CUDA 12 execution provider on the CUDA 12 + cuDNN 9 runtime.
# Build from the repository root:  docker build -f deploy/docker/worker-cuda.Dockerfile -t propeller/worker-cuda:0.1.0 .
# Run with the NVIDIA container toolkit (docker run --gpus, compose device reservations, or nvidia.com/gpu on Kubernetes).

# 1. Dependencies, with onnxruntime-node's CUDA 12 binaries downloaded by its install script
#    (the repository's .npmrc skips that download; the environment variable overrides it).
FROM node:20.18.1-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# 2. Runtime: CUDA 12 + cuDNN 9 (what onnxruntime-node's CUDA provider links against) and Node 20.
FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04
COPY --from=deps /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY common ./common
COPY worker ./worker
COPY models ./models
COPY cli ./cli
COPY proto ./proto
COPY coordinator ./coordinator
ENV NODE_ENV=production \
    PROPELLER_MODEL_DIR=/var/cache/propeller/models \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
# A numeric user, so Kubernetes' runAsNonRoot can check it (deploy/kubernetes runs pods as 10001).
RUN groupadd --system --gid 10001 propeller && useradd --system --uid 10001 --gid 10001 propeller && mkdir -p /var/cache/propeller /models && chown propeller /var/cache/propeller
USER 10001:10001
EXPOSE 7401 9465
ENTRYPOINT ["node", "--import", "tsx", "cli/main.ts"]
# Without --models the worker builds and serves the reference models; mount real ones at /models and add --models /models.
CMD ["worker", "--listen", "0.0.0.0:7401", "--device", "cuda:0", "--threads", "4", "--metrics-listen", "0.0.0.0:9465"]
