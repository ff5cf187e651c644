# Pickwire core. Build: docker build -t pickwire .   Run: see docker-compose.yml.
# Stage 1 compiles native modules (better-sqlite3) with the toolchain; the runtime stage stays slim.
FROM node:20-bookworm-slim AS deps
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# The operator dashboard is built with devDependencies (Vite, Preact, uPlot) that the runtime does
# not need: only its output, dashboards/dist/, goes into the image.
FROM deps AS dashboard
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY dashboards ./dashboards
RUN npx tsx dashboards/build.ts

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PICKWIRE_DATA_DIR=/app/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY protocols ./protocols
COPY devices ./devices
COPY simulators ./simulators
COPY src ./src
COPY dashboards ./dashboards
COPY --from=dashboard /app/dashboards/dist ./dashboards/dist
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 8080 1883
# Node 20 has fetch; the slim image has neither curl nor wget.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["npx", "tsx", "src/main.ts"]
