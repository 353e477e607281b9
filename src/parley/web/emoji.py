"""GET /api/emoji: the emoji picker's data, built once from the `emoji` package.

The `emoji` package knows names and aliases but not the Unicode picker groups, so
the groups are derived here: first from the shape of the sequence (flags, people
sequences), then from words in the English name, then from the code point block.
The result is encoded (and gzipped) once per process and sent with a long
Cache-Control, because it only changes when the package is upgraded.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from functools import cache
from typing import Final

import emoji
from quart import Blueprint, Response, request

bp = Blueprint("emoji", __name__)

CACHE_SECONDS: Final = 7 * 24 * 3600  # the data only changes with a package upgrade
FULLY_QUALIFIED: Final = emoji.STATUS["fully_qualified"]
SKIN_TONES: Final = range(0x1F3FB, 0x1F400)  # tone variants are left out of the grid
REGIONAL_INDICATORS: Final = range(0x1F1E6, 0x1F200)
TAG_CHARS: Final = range(0xE0020, 0xE0080)

# (id, label, icon) in the order pickers conventionally show them.
GROUPS: Final = (
    ("smileys", "Smileys & emotion", "😀"),
    ("people", "People & body", "👋"),
    ("nature", "Animals & nature", "🐻"),
    ("food", "Food & drink", "🍔"),
    ("activities", "Activities", "⚽"),
    ("travel", "Travel & places", "🚗"),
    ("objects", "Objects", "💡"),
    ("symbols", "Symbols", "❤️"),
    ("flags", "Flags", "🏁"),
)


# Whole words of an emoji's English name that decide its group, checked in this
# order: specific groups first, so "soccer_ball" is a sport before "rice_ball" food,
# and "palm_tree" is a plant before an open palm is a hand.
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


KEYWORDS: Final[tuple[tuple[str, frozenset[str]], ...]] = (
    (
        "people",
        _words(
            "person people man woman men women boy girl baby child adult older family "
            "couple prince princess santa claus mage fairy vampire merperson mermaid merman "
            "elf genie zombie troll superhero supervillain ninja guard detective cook "
            "mechanic pilot astronaut firefighter officer worker judge teacher student "
            "singer artist technologist scientist farmer pregnant breast-feeding "
            "construction_worker bust silhouette speaking_head footprints people_hugging"
        ),
    ),
    (
        "smileys",
        _words(
            "heart hearts skull ghost alien robot poo clown ogre goblin collision dizzy "
            "sweat droplets speech thought balloon zzz hole bomb anger hundred_points "
            "see-no-evil hear-no-evil speak-no-evil love_letter kiss_mark laughing "
            "star-struck exploding_head"
        ),
    ),
    (
        "activities",
        _words(
            "jack-o-lantern christmas_tree fireworks sparkler firecracker sparkles "
            "party_popper confetti_ball tanabata_tree pine_decoration japanese_dolls "
            "carp_streamer wind_chime moon_viewing_ceremony ribbon wrapped_gift reminder "
            "admission_tickets ticket military_medal trophy sports_medal soccer_ball "
            "baseball softball basketball volleyball american_football rugby_football "
            "tennis flying_disc bowling cricket_game field_hockey ice_hockey lacrosse "
            "ping_pong badminton boxing_glove martial_arts_uniform goal_net flag_in_hole "
            "ice_skate fishing_pole diving_mask running_shirt skis sled curling_stone "
            "bullseye yo-yo kite water_pistol pool_8_ball crystal_ball magic_wand "
            "video_game joystick slot_machine game_die puzzle_piece teddy_bear piñata "
            "mirror_ball nesting_dolls spade_suit heart_suit diamond_suit club_suit "
            "chess_pawn joker mahjong_red_dragon flower_playing_cards performing_arts "
            "framed_picture artist_palette thread sewing_needle yarn knot "
            "1st_place_medal 2nd_place_medal 3rd_place_medal"
        ),
    ),
    (
        "food",
        _words(
            "grapes melon watermelon tangerine lemon banana pineapple mango apple pear "
            "peach cherries strawberry blueberries kiwi tomato olive coconut avocado "
            "eggplant potato carrot ear_of_corn hot_pepper bell_pepper cucumber leafy_green "
            "broccoli garlic onion peanuts beans chestnut ginger_root pea_pod bread "
            "croissant baguette_bread flatbread pretzel bagel pancakes waffle cheese_wedge "
            "meat_on_bone poultry_leg cut_of_meat bacon hamburger french_fries pizza "
            "hot_dog sandwich taco burrito tamale stuffed_flatbread falafel egg cooking "
            "shallow_pan_of_food pot_of_food fondue bowl_with_spoon green_salad popcorn "
            "butter salt canned_food bento_box rice_cracker rice_ball cooked_rice "
            "curry_rice steaming_bowl spaghetti roasted_sweet_potato oden sushi "
            "fried_shrimp fish_cake_with_swirl moon_cake dango dumpling fortune_cookie "
            "takeout_box crab lobster shrimp squid oyster soft_ice_cream shaved_ice "
            "ice_cream doughnut cookie birthday_cake shortcake cupcake pie chocolate_bar "
            "candy lollipop custard honey_pot baby_bottle glass_of_milk hot_beverage "
            "teapot teacup_without_handle sake bottle_with_popping_cork wine_glass "
            "cocktail_glass tropical_drink beer_mug clinking_beer_mugs clinking_glasses "
            "tumbler_glass pouring_liquid cup_with_straw bubble_tea beverage_box mate ice "
            "chopsticks fork_and_knife fork_and_knife_with_plate spoon kitchen_knife "
            "amphora jar lime brown_mushroom mushroom root_vegetable"
        ),
    ),
    (
        "nature",
        _words(
            "dog cat tiger lion horse unicorn zebra deer bison cow ox water_buffalo pig "
            "boar ram ewe goat camel two-hump_camel llama giraffe elephant mammoth "
            "rhinoceros hippopotamus mouse rat hamster rabbit chipmunk beaver hedgehog "
            "bat bear polar_bear koala panda sloth otter skunk kangaroo badger paw_prints "
            "turkey chicken rooster hatching_chick baby_chick front-facing_baby_chick "
            "bird black_bird penguin dove eagle duck swan owl dodo feather flamingo "
            "peacock parrot frog crocodile turtle lizard snake dragon sauropod t-rex "
            "whale spouting_whale dolphin seal fish tropical_fish blowfish shark octopus "
            "spiral_shell coral jellyfish snail butterfly bug ant honeybee lady_beetle "
            "beetle cricket cockroach spider spider_web scorpion mosquito fly worm "
            "microbe bouquet cherry_blossom white_flower lotus rosette rose wilted_flower "
            "hibiscus sunflower blossom tulip hyacinth seedling potted_plant evergreen_tree "
            "deciduous_tree palm_tree cactus sheaf_of_rice herb shamrock four_leaf_clover "
            "maple_leaf fallen_leaf leaf_fluttering_in_wind empty_nest nest_with_eggs "
            "wing goose moose donkey orangutan gorilla monkey poodle wolf fox raccoon "
            "leafless_tree phoenix guide_dog service_dog black_cat gorilla bison "
            "fingerprint"
        ),
    ),
    (
        "travel",
        _words(
            "globe world map earth mountain volcano mount camping beach desert island "
            "national park stadium classical building construction brick rock wood hut "
            "houses house derelict office post hospital bank hotel love_hotel convenience "
            "school department factory castle wedding tower statue church mosque hindu "
            "synagogue shinto kaaba fountain tent foggy night cityscape sunrise sunset "
            "bridge springs carousel playground_slide ferris roller barber circus "
            "locomotive railway train tram metro station bus trolleybus minibus ambulance "
            "fire_engine police taxi automobile car sport_utility pickup truck lorry "
            "tractor racing motorcycle scooter wheelchair bicycle kick skateboard "
            "stop light traffic fuel wheel anchor ring_buoy sailboat canoe speedboat "
            "passenger ferry motor ship airplane departure arrival parachute seat "
            "helicopter suspension mountain_cableway aerial tramway satellite rocket "
            "flying saucer bellhop luggage hourglass watch alarm stopwatch timer "
            "clock thirty moon sun star glowing shooting milky cloud thermometer "
            "sunny rain umbrella lightning snowflake snowman comet fire droplet water "
            "wave tornado fog rainbow closed_umbrella high_voltage cyclone dashing_away"
        ),
    ),
    (
        "people",
        _words(
            "hand hands finger fingers thumbs thumb fist wave waving palm nail clapping "
            "ear nose eyes eye tongue mouth lips leg foot arm biceps brain lungs "
            "anatomical tooth bone juggling bouncing levitating vulcan pinched "
            "pinching writing selfie handshake beard frowning pouting gesturing bowing "
            "tipping raising shrugging facepalming kneeling standing walking running "
            "dancing deaf haircut massage steamy climbing fencing horse_racing skier "
            "snowboarder golfing surfing rowing swimming biking lifting cartwheeling "
            "wrestling playing lotus_position bathing sleeping index pointing backhand "
            "hugs gesture horns"
        ),
    ),
    (
        "symbols",
        _words(
            "button sign symbol arrow arrows keycap mark aries taurus gemini cancer "
            "leo virgo libra scorpio sagittarius capricorn aquarius pisces ophiuchus "
            "square circle triangle diamond copyright registered trade_mark exclamation "
            "question infinity recycling peace yin om dharma wheel menorah atom "
            "fleur-de-lis trident radioactive biohazard prohibited entry ballot loop "
            "repeat shuffle restroom toilets children_crossing litter potable "
            "non-potable female male transgender medical staff_of_aesculapius check "
            "asterisk sparkle cross heavy orthodox latin wavy cinema dotted red_paper"
        ),
    ),
)

# Words for a face that belongs in another group ("dog_face", "sun_with_face").
ANIMAL_FACES: Final = KEYWORDS[4][1]
SKY_FACES: Final = _words("sun moon wind cloud new full first last")


def _group_by_block(cp: int) -> str:
    """The group for a code point whose name had no deciding word, by Unicode block."""
    if 0x1F600 <= cp <= 0x1F64F:
        return "smileys"
    if 0x1F680 <= cp <= 0x1F6FF:
        return "travel"
    if 0x1F300 <= cp <= 0x1F32F:
        return "travel"
    if 0x1F330 <= cp <= 0x1F37F:
        return "food"
    if 0x1F380 <= cp <= 0x1F3FF:
        return "activities"
    if 0x1F400 <= cp <= 0x1F43F:
        return "nature"
    if cp < 0x2600 or 0x2B00 <= cp <= 0x2BFF or 0x3000 <= cp <= 0x33FF:
        return "symbols"
    return "objects"


def group_of(char: str, name: str) -> str:
    """Return the picker group id for one emoji sequence and its English name."""
    cps = [ord(c) for c in char]
    lower = name.lower()
    if any(cp in REGIONAL_INDICATORS or cp in TAG_CHARS for cp in cps):
        return "flags"
    named_flag = lower.startswith("flag_") or lower.endswith(("_flag", "_flags"))
    if named_flag and lower != "flag_in_hole" and "mailbox" not in lower:
        return "flags"
    words = set(lower.split("_")) | {lower}
    words |= {part for word in list(words) for part in word.split("-")}
    if "face" in words:
        if words & ANIMAL_FACES:
            return "nature"
        if words & SKY_FACES:
            return "travel"
        return "smileys"
    if "cat" in words and _group_by_block(cps[0]) == "smileys":
        return "smileys"  # grinning_cat and friends sit with the faces
    for group, keywords in KEYWORDS:  # an exact name ("baby_bottle") beats a word ("baby")
        if lower in keywords:
            return group
    for group, keywords in KEYWORDS:
        if words & keywords:
            return group
    return _group_by_block(cps[0])


def _picker_order(entry: list[str]) -> tuple[bool, bool, list[int]]:
    """Sort key: faces first (people look for them first), then code point order."""
    char, name = entry[0], entry[1]
    face = "face" in name.lower().split("_") or 0x1F600 <= ord(char[0]) <= 0x1F64F
    return (not face, face and ord(char[0]) < 0x1F600, [ord(c) for c in char])


def build_catalog() -> dict[str, object]:
    """Return the picker catalog: groups of [emoji, name, *aliases] in code point order."""
    members: dict[str, list[list[str]]] = {gid: [] for gid, _, _ in GROUPS}
    for char, info in emoji.EMOJI_DATA.items():
        if info.get("status") != FULLY_QUALIFIED:
            continue
        if any(ord(c) in SKIN_TONES for c in char):
            continue
        name = str(info["en"]).strip(":")
        aliases = [a.strip(":") for a in info.get("alias", []) if a.strip(":") != name]
        members[group_of(char, name)].append([char, name, *aliases])
    for entries in members.values():
        # Code point order keeps related emoji (faces, clocks, flags by country code)
        # together; faces lead their group because people look for them first.
        entries.sort(key=_picker_order)
    return {
        "version": emoji.__version__,
        "groups": [
            {"id": gid, "name": label, "icon": icon, "emojis": members[gid]}
            for gid, label, icon in GROUPS
        ],
    }


@cache
def _encoded() -> tuple[bytes, bytes, str]:
    """The catalog as JSON bytes, its gzip form and an ETag, built once per process."""
    raw = json.dumps(build_catalog(), ensure_ascii=False, separators=(",", ":")).encode()
    etag = hashlib.sha256(raw).hexdigest()[:16]
    return raw, gzip.compress(raw, compresslevel=9, mtime=0), etag


@bp.get("/api/emoji")
async def get_emoji() -> Response:
    """Serve the catalog, gzipped when the client accepts it, cacheable for a week."""
    raw, zipped, etag = _encoded()
    headers = {
        "Cache-Control": f"public, max-age={CACHE_SECONDS}",
        "ETag": f'"{etag}"',
        "Vary": "Accept-Encoding",
    }
    if request.headers.get("If-None-Match") == f'"{etag}"':
        return Response(b"", status=304, headers=headers)
    body = raw
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        body = zipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, status=200, headers=headers, content_type="application/json")
