# The ioc image used by compose.yaml (API nodes and camera workers run the same image).
# Not built in this project's CI (no Docker there): see docs/cluster.md.
FROM python:3.12-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY ioc ./ioc
COPY dashboard ./dashboard
COPY pipelines ./pipelines
# editable: the API serves the wall from /app/dashboard next to the package
RUN pip install --no-cache-dir -e .
COPY cameras.yaml ./
# cameras.yaml's relative paths (data/demo/…) resolve against /app
ENV IOC_HOST=0.0.0.0 IOC_DATA_DIR=/app/data IOC_MODELS_DIR=/app/models YOLO_OFFLINE=1
EXPOSE 8080 9100
CMD ["ioc", "serve"]
