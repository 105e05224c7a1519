"""Genres, artists, albums and tracks: ~30 genres, tracks/20 artists, tracks/10 albums.

Distributions: artist popularity is skewed (few stars, a long tail) and tracks follow their
artist's; durations are log-normal around 3.5 minutes; most tracks of an artist share its genre;
album release years lean to recent ones; 5% of tracks are singles without an album."""
from __future__ import annotations

import math
from array import array
from datetime import date, timedelta

from demo_data.context import GenerationContext
from demo_data.words import ADJECTIVES, COUNTRIES, FIRST_NAMES, GENRES, LAST_NAMES, NOUNS, PLURALS, VARIANTS, VERBS

TABLES = ["catalog_genre", "catalog_artist", "catalog_album", "catalog_track"]
CDN = "https://cdn.vobemusic.example"
PRICES = ["0.99"] * 5 + ["1.29"] * 3 + ["1.49", "0.00"]
SINGLE_SHARE = 0.05
LATEST_YEAR = 2025


def artist_name(rng) -> str:
    pattern = rng.random()
    if pattern < 0.35:
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    if pattern < 0.6:
        return f"The {rng.choice(ADJECTIVES)} {rng.choice(PLURALS)}"
    if pattern < 0.8:
        return f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
    if pattern < 0.9:
        return f"{rng.choice(FIRST_NAMES)} & the {rng.choice(PLURALS)}"
    return f"DJ {rng.choice(NOUNS)}"


def title(rng) -> str:
    pattern = rng.random()
    if pattern < 0.4:
        text = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
    elif pattern < 0.6:
        text = f"{rng.choice(VERBS)} the {rng.choice(NOUNS)}"
    elif pattern < 0.75:
        text = f"{rng.choice(NOUNS)} of {rng.choice(NOUNS)}"
    elif pattern < 0.85:
        text = f"{rng.choice(NOUNS)}"
    else:
        text = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}s"
    if rng.random() < 0.06:
        text += f" ({rng.choice(VARIANTS)})"
    return text


def generate(ctx: GenerationContext) -> None:
    rng = ctx.rng("catalog")
    tracks = ctx.tracks
    artists = max(1, tracks // 20)
    albums = max(1, tracks // 10)
    ref = ctx.reference_time
    three_years = 3 * 365 * 86400

    ctx.copy("catalog_genre", ["id", "name", "slug", "description"], [
        (n, name, name.lower().replace("&", "and").replace(" ", "-"), description)
        for n, (name, description) in enumerate(GENRES, start=1)
    ])
    genre_weights = [1 / (rank ** 0.8) for rank in range(1, len(GENRES) + 1)]  # a Zipf-like mix
    genre_ids = list(range(1, len(GENRES) + 1))

    account_ids = list(ctx.facts.get("artist_account_ids", []))
    artist_genre = array("B", [0])
    artist_popularity = array("f", [0.0])
    artist_rows = []
    for artist_id in range(1, artists + 1):
        name, country = artist_name(rng), rng.choice(COUNTRIES)
        genre = rng.choices(genre_ids, genre_weights)[0]
        artist_genre.append(genre)
        artist_popularity.append(100 * rng.betavariate(1.5, 5))
        created = ref - timedelta(seconds=rng.randrange(three_years))
        user_id = account_ids[artist_id - 1] if artist_id <= len(account_ids) else None
        bio = f"{name} is a {GENRES[genre - 1][0].lower()} act from {country}."
        artist_rows.append((artist_id, user_id, name, bio, country, f"{CDN}/artists/{artist_id}.jpg", created, created))
    ctx.copy("catalog_artist", ["id", "user_id", "name", "bio", "country", "image_url", "created_at", "updated_at"],
             artist_rows)

    album_artist = array("I", [0])
    album_rows = []
    for album_id in range(1, albums + 1):
        artist_id = rng.randrange(artists) + 1
        album_artist.append(artist_id)
        year = LATEST_YEAR - min(int(rng.expovariate(1 / 9)), 60)
        released = date(year, 1, 1) + timedelta(days=rng.randrange(365))
        created = ref - timedelta(seconds=rng.randrange(three_years))
        album_rows.append((album_id, artist_id, title(rng), released, f"{CDN}/covers/{album_id}.jpg", created, created))
    ctx.copy("catalog_album", ["id", "artist_id", "title", "release_date", "cover_image_url", "created_at", "updated_at"],
             album_rows)

    durations = array("I", [0])
    popularity = array("B", [0])

    def track_lines():
        choice, random, randrange, gauss = rng.choice, rng.random, rng.randrange, rng.gauss
        log_mean = math.log(210_000)
        for track_id in range(1, tracks + 1):
            if random() < SINGLE_SHARE:
                album_id, artist_id = "\\N", randrange(artists) + 1
            else:
                album = randrange(albums) + 1
                album_id, artist_id = str(album), album_artist[album]
            genre = artist_genre[artist_id] if random() < 0.8 else randrange(len(GENRES)) + 1
            duration = min(max(int(rng.lognormvariate(log_mean, 0.3)), 30_000), 1_200_000)
            pop = min(max(int(artist_popularity[artist_id] + gauss(0, 8)), 0), 100)
            durations.append(duration)
            popularity.append(pop)
            tempo = round(min(max(gauss(120, 25), 50), 220), 1)
            energy = round(rng.betavariate(2, 2), 3)
            valence = round(rng.betavariate(2, 2), 3)
            created = (ref - timedelta(seconds=randrange(three_years))).isoformat(sep=" ")
            yield (
                f"{track_id}\t{title(rng)}\t{artist_id}\t{album_id}\t{genre}\t{duration}\t{pop}\t{tempo}\t"
                f"{energy}\t{valence}\t{choice(PRICES)}\ttracks/{artist_id}/{track_id}.mp3\t{created}\t{created}\n"
            )

    ctx.copy("catalog_track", [
        "id", "title", "artist_id", "album_id", "genre_id", "duration_ms", "popularity", "tempo", "energy",
        "valence", "price", "file_path", "created_at", "updated_at",
    ], track_lines(), lines=True)
    ctx.counts.update(genres=len(GENRES), artists=artists, albums=albums, tracks=tracks)
    ctx.facts["track_durations"] = durations
    ctx.facts["track_popularity"] = popularity
