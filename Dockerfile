# lob in a container: `lob serve` by default. See docs/docker.md.
# This image cannot be built on every machine lob is developed on; it is kept
# minimal and conventional so that it builds anywhere Docker runs.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1

RUN pip install --no-cache-dir uv

WORKDIR /app
# setup.py compiles the engine when a C compiler is present; the slim image has none,
# so lob runs there as pure Python (see docs/architecture.md, "Compiled where it counts").
COPY pyproject.toml setup.py README.md ./
COPY lob ./lob
RUN uv sync --no-dev

VOLUME ["/data"]
EXPOSE 8000

# Inside a container the server must listen on all of the container's
# interfaces to be reachable through the published port.
CMD ["uv", "run", "--no-dev", "lob", "serve", "--host", "0.0.0.0", "--port", "8000", \
     "--data-dir", "/data", "--no-multicast"]
