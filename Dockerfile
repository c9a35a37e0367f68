# logpipe's own processes (streaming worker, batch worker, producer, dashboard): Node 20 with dbt
# in a virtual environment, the same versions as the local stack.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv git ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/dbt \
 && /opt/dbt/bin/pip install --no-cache-dir dbt-core==1.10.15 dbt-postgres==1.9.1
ENV PATH=/opt/dbt/bin:$PATH LOGPIPE_DATA_DIR=/var/lib/logpipe
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
# The install stamp ./logpipe checks, and the workers' bundles, made while node_modules/
# is still writable (the processes run as `node`).
RUN touch node_modules/.logpipe-installed && node --import tsx lib/worker-bundle.ts all
USER node
ENTRYPOINT ["./logpipe"]
