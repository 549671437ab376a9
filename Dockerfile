# One image for the backend and the cockpit (compose.yaml picks the command).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md rxconfig.py alembic.ini ./
COPY backend ./backend
COPY cockpit ./cockpit
COPY prompts ./prompts
COPY archetypes ./archetypes
COPY knowledge ./knowledge
COPY scoring_rules ./scoring_rules
RUN pip install --no-cache-dir . && useradd --create-home sufler
USER sufler
ENV SUFLER_SERVER_HOST=0.0.0.0
EXPOSE 8000
CMD ["sufler", "serve"]
