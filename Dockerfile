# tmdb-fleet: one image for every role (worker, dashboard, backfill, status), on Node 24.
# Base image pinned to an exact Node release (test/compose.test.ts checks); bump both FROMs together.
#   docker build -t tmdb-fleet .
#   docker run --rm --env-file .env tmdb-fleet backfill movie --from 2024-01-01 --to 2024-01-31

# ---- build: full dependencies, compile TypeScript, then drop dev dependencies ----
FROM node:24.21.0-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# Only the application sources: tsconfig's other globs (test/, bench/) match nothing here, so
# dist/src/cli.js is all that is built (rootDir "." keeps the dist/src layout).
COPY tsconfig.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime: production dependencies and compiled output only, non-root ----
FROM node:24.21.0-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
USER node
# The dashboard listens here when started with `dashboard --port 3000`.
EXPOSE 3000
# The same Node flags as the CLI's shebang (a 2 MiB young generation; see src/cli.ts).
ENTRYPOINT ["node", "--max-semi-space-size=2", "dist/src/cli.js"]
CMD ["worker"]
