# One image, two entry points: `sluice operator` (deploy/operator.yaml) and `sluice runtime`
# (the Deployments the operator creates run `node /app/bin/sluice.js runtime ...`).
FROM node:20-bookworm-slim AS build
WORKDIR /src
# better-sqlite3 builds from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# npm ci runs the build script (prepare), which has no sources to build yet.
COPY scripts/build-server.mjs scripts/
RUN npm ci
COPY bin bin
COPY cli cli
COPY compiler compiler
COPY runtime runtime
COPY operator operator
COPY schemas schemas
COPY studio studio
RUN npm run build:server \
    && node studio/build.mjs --force \
    && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# A smaller young generation keeps long pipe runs' memory flat (see bin/sluice.js).
ENV NODE_OPTIONS=--max-semi-space-size=8
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
COPY --from=build /src/schemas schemas
<<<<<<< HEAD
# bin/sluice.js runs the build dist/server.json names when the TypeScript sources are absent.
=======
# Sluice Studio, served by the runtime at / (runtime/api/studio.ts finds it beside dist/).
COPY --from=build /src/studio/dist studio/dist
# bin/sluice.js runs dist/ when the TypeScript sources are absent.
>>>>>>> main
COPY --from=build /src/bin/sluice.js bin/sluice.js
RUN printf '#!/bin/sh\nexec node /app/bin/sluice.js operator "$@"\n' > /usr/local/bin/sluice-operator \
    && printf '#!/bin/sh\nexec node /app/bin/sluice.js runtime "$@"\n' > /usr/local/bin/sluice-runtime \
    && chmod +x /usr/local/bin/sluice-operator /usr/local/bin/sluice-runtime \
    && mkdir -p /var/lib/sluice && chown 10001:10001 /var/lib/sluice
USER 10001
EXPOSE 9042 8080
ENTRYPOINT ["node", "/app/bin/sluice.js"]
CMD ["runtime", "--plan", "/etc/sluice/plan"]
