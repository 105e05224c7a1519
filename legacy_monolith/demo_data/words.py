"""Word lists the generated names are built from (no network, no external corpus)."""

FIRST_NAMES = """Ada Alex Alma Amir Ana Anton Aria Arlo Asha Bea Ben Bianca Cal Cara Cleo Dara Dean Demi Eli Ella
Emil Esme Eva Ezra Finn Frida Gia Gus Hana Hugo Ida Ines Iris Ivan Jade Jana Jonah Juno Kai Kira Lars Lea Leo
Lena Lila Luca Luz Mara Marco Maya Mika Milo Mina Nadia Nico Nina Noa Noor Oleg Omar Otto Pia Rafa Remy Rhea
Rosa Ruby Sami Sara Sasha Silas Sofia Tarik Tess Theo Uma Vera Vika Wren Yara Yuri Zane Zoe Ilya Olga Katya""".split()

LAST_NAMES = """Abbot Adler Alvarez Bauer Bell Berg Blake Brandt Cruz Dahl Duval Ellis Falk Ferro Fischer Frost
Garcia Gray Hale Hart Holm Ibarra Ivanova Jansen Kane Keller Kim Klein Lang Larsen Lind Lopez Marsh Meyer
Moreau Nash Novak Oakes Orlov Park Petrov Quinn Reyes Rossi Sato Serra Shaw Silva Stone Storm Tanaka Vale
Vance Varga Voss Wade Weber West Wolfe Young Zhou Sokolov Morozov Lebedev""".split()

ADJECTIVES = """Amber Ancient Blue Broken Burning Crimson Crystal Dark Distant Electric Empty Endless Falling
Fading Forgotten Frozen Gentle Golden Hidden Hollow Infinite Last Liquid Lonely Lost Lucky Midnight Neon
Paper Pale Perfect Quiet Restless Rising Secret Silent Silver Slow Solar Static Strange Sweet Velvet Wild
Wired Young Violet Northern Southern Hazy Radiant Copper Scarlet Lunar Cosmic Tender Bitter Sacred""".split()

NOUNS = """Afternoon Angel Avenue Balloon Bird Blossom Bridge Canyon Carousel City Cloud Comet Dancer Desert
Dream Echo Engine Feather Fire Flame Garden Ghost Glass Harbor Heart Highway Horizon Island Kingdom Lantern
Light Machine Memory Mirror Moon Morning Mountain Night Ocean Orchid Paradise Parade River Road Rose Shadow
Signal Sky Smoke Snow Song Star Stone Storm Summer Sun Thunder Tide Train Valley Wave Window Winter Wolf
Youth Satellite Compass Ember Meadow Orbit Prism Rain Wire Letter Garage Circus Tiger Fox Raven""".split()

PLURALS = """Foxes Wolves Ravens Tigers Strangers Dreamers Lovers Giants Ghosts Kings Sparrows Pilots Sailors
Rebels Comets Echoes Shadows Saints Drifters Owls Lanterns Machines Wanderers Satellites Mirrors Horses""".split()

VERBS = """Chasing Holding Leaving Finding Burning Calling Crossing Dancing Dreaming Falling Running Waiting
Breaking Catching Drifting Following Losing Saving Singing Watching Turning Carrying""".split()

VARIANTS = ["Remastered", "Live", "Acoustic", "Radio Edit", "Demo", "Extended Mix", "Remix", "Reprise"]

GENRES = [
    ("Pop", "Catchy songs built around hooks and choruses."),
    ("Rock", "Guitar-driven music from classic to modern."),
    ("Indie", "Independent releases across guitar and electronic sounds."),
    ("Hip-Hop", "Beats, rhymes and sampling."),
    ("R&B", "Rhythm and blues, soul-inflected vocals."),
    ("Electronic", "Synths, drum machines and club culture."),
    ("House", "Four-on-the-floor dance music from Chicago onward."),
    ("Techno", "Repetitive, machine-driven dance music."),
    ("Drum and Bass", "Fast breakbeats with heavy basslines."),
    ("Ambient", "Atmospheric music for listening or not."),
    ("Jazz", "Improvisation, swing and blue notes."),
    ("Blues", "Twelve bars and the human condition."),
    ("Soul", "Gospel-rooted vocal music."),
    ("Funk", "Syncopated grooves on the one."),
    ("Classical", "Art music from the common-practice period and beyond."),
    ("Opera", "Drama set to music."),
    ("Country", "Storytelling songs with roots in American folk."),
    ("Folk", "Traditional and acoustic songwriting."),
    ("Metal", "Heavy distortion, loud drums, big riffs."),
    ("Punk", "Fast, short and loud."),
    ("Reggae", "Offbeat rhythms from Jamaica."),
    ("Latin", "Music of Latin America and Iberia."),
    ("K-Pop", "Korean pop music and idol culture."),
    ("Afrobeats", "West African pop rhythms."),
    ("Disco", "Dance music of the seventies and its revival."),
    ("Lo-Fi", "Hazy beats to study to."),
    ("Soundtrack", "Music written for film, TV and games."),
    ("World", "Traditional music from around the globe."),
    ("Gospel", "Christian vocal music."),
    ("Experimental", "Music that breaks its own rules."),
]

# Weighted towards the countries with the most catalogue, as real catalogues are.
COUNTRIES = ["US"] * 8 + ["GB"] * 4 + ["DE"] * 2 + ["FR"] * 2 + ["SE", "CA", "AU", "JP", "KR", "BR", "MX",
             "ES", "IT", "NL", "NO", "FI", "PL", "RU", "UA", "NG", "ZA", "IN", "AR", "IE", "JM"]
