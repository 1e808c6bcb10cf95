# The image runs exactly what `make run` runs: the same Makefile installs, builds the web assets
# (npm, from the committed package-lock.json), migrates, deploys and serves.
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends make nodejs npm \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/app
COPY . .
RUN make install assets

ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
# DATABASE_URL defaults to SQLite under var/; set it to postgresql+psycopg://... in production.
CMD ["make", "run"]
