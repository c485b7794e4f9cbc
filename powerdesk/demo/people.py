"""Fictional people and organisations for the demo: names that fit their age, unique mobile
numbers, checksum-valid ID-card numbers, 统一社会信用代码-shaped codes, WeChat openids.

Everything is drawn from one ``random.Random`` handed in by the caller, so a seed gives the
same people every time. No database access here.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from random import Random

from powerdesk.customers.choices import AgeGroup
from powerdesk.customers.validators import make_id_card_number
from powerdesk.demo.reference import people

SHOWCASE_PHONE = "13800000000"

# Mobile prefixes in use on the three mainland networks.
_MOBILE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 172 173 "
    "175 176 177 178 180 181 182 183 184 185 186 187 188 189 191 193 195 198 199"
).split()

# Ages (completed years at the reference date) per age group, and how common each group is
# among account holders: few holders are under 30.
AGE_RANGES = {
    AgeGroup.UNDER_30: (20, 29),
    AgeGroup.FROM_30_TO_44: (30, 44),
    AgeGroup.FROM_45_TO_59: (45, 59),
    AgeGroup.OVER_60: (60, 88),
}
AGE_GROUP_WEIGHTS = {
    AgeGroup.UNDER_30: 12, AgeGroup.FROM_30_TO_44: 30, AgeGroup.FROM_45_TO_59: 33, AgeGroup.OVER_60: 25,
}

# GB 32100-2015 统一社会信用代码 and GB 11714 组织机构代码 alphabets and weights.
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_MODERN_ORG_CODES_FROM = date(2015, 10, 1)  # codes issued since the reform start with "MA"


@dataclass(frozen=True)
class Person:
    name: str
    surname: str
    male: bool
    birth_date: date
    age_group: AgeGroup
    occupation: str
    phone: str
    id_card_number: str


def uscc_check_char(first17: str) -> str:
    """GB 32100 check character of a 统一社会信用代码."""
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """GB 11714 check character of a 9-character 组织机构代码."""
    total = sum(int(ch, 36) * w for ch, w in zip(first8, _ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def _weighted(pairs) -> tuple[list, list[float]]:
    """Split ``[[value, weight], …]`` into a population and cumulative weights for ``choices``."""
    values = [value for value, _weight in pairs]
    return values, list(itertools.accumulate(float(weight) for _value, weight in pairs))


class PeopleFactory:
    """Draws people and organisations; keeps the phone and ID numbers it hands out unique."""

    def __init__(self, rng: Random, *, reference_date: date) -> None:
        self.rng = rng
        self.reference_date = reference_date
        data = people()
        self.data = data
        self._surnames, self._surname_cw = _weighted(data["surnames"] + data["compound_surnames"])
        self._single_surnames = [s for s, _w in data["surnames"]]
        self._age_groups, self._age_cw = _weighted(AGE_GROUP_WEIGHTS.items())
        chars = data["given_name_chars"]
        self._first_chars = {True: chars["male"] + chars["neutral"], False: chars["female"] + chars["neutral"]}
        self._second_chars = {True: chars["male"], False: chars["female"]}
        self._single_given = {True: data["single_char_given_names"]["male"],
                              False: data["single_char_given_names"]["female"]}
        self._popular = sorted(
            (int(band.split("-")[0]), int(band.split("-")[1]), names)
            for band, names in data["given_names_by_birth_year"].items()
        )
        self._occupations = data["occupations"]
        org = data["organisation"]
        self._company_forms, self._company_form_cw = _weighted(org["company_forms"])
        # Phones: an affine bijection on the 8 digits after the prefix, so they look random yet
        # never repeat (the multiplier is a unit modulo 10^8).
        self._phone_counter = 0
        self._phone_mul = rng.randrange(1, 10**8 // 10) * 10 + rng.choice((1, 3, 7, 9))
        self._phone_add = rng.randrange(10**8)
        self._id_numbers_used: set[int] = set()

    # --- identifiers -------------------------------------------------------------------------

    def phone(self) -> str:
        """A mobile number never handed out before in this run (and never the showcase's)."""
        while True:
            i = self._phone_counter
            self._phone_counter += 1
            # The 8-digit body alone is unique (a bijection of the counter below 10^8); the
            # prefix is scrambled from the counter so neighbours do not share it.
            body = (self._phone_mul * i + self._phone_add) % 10**8
            prefix = _MOBILE_PREFIXES[(i * 2654435761 >> 7) % len(_MOBILE_PREFIXES)]
            number = f"{prefix}{body:08d}"
            if number != SHOWCASE_PHONE:
                return number

    def id_card_number(self, region_code: str, birth_date: date, male: bool) -> str:
        """Checksum-valid, unique in this run; the sequence's parity gives the sex (odd = male)."""
        while True:
            sequence = self.rng.randrange(500) * 2 + (1 if male else 0)
            number = make_id_card_number(region_code, birth_date, sequence)
            key = int(number[:17])
            if key not in self._id_numbers_used:
                self._id_numbers_used.add(key)
                return number

    def reserve_id_card_number(self, number: str) -> None:
        self._id_numbers_used.add(int(number[:17]))

    def wechat_openid(self) -> str:
        """28 characters starting with "o", like the openids WeChat issues."""
        return "o" + base64.urlsafe_b64encode(self.rng.getrandbits(160).to_bytes(20, "big")).decode()[:27]

    def org_code(self, region_code: str, kind_prefix: str, registered_on: date) -> str:
        """An 18-character 统一社会信用代码 with valid check characters."""
        if registered_on >= _MODERN_ORG_CODES_FROM:
            body = "MA" + "".join(self.rng.choice(_USCC_CHARS) for _ in range(6))
        else:
            body = f"{self.rng.randrange(10**8):08d}"
        first17 = f"{kind_prefix}{region_code}{body}{org_code_check_char(body)}"
        return first17 + uscc_check_char(first17)

    # --- people ------------------------------------------------------------------------------

    def surname(self) -> str:
        return self.rng.choices(self._surnames, cum_weights=self._surname_cw)[0]

    def given_name(self, male: bool, birth_year: int) -> str:
        roll = self.rng.random()
        if roll < 0.35:
            for start, end, names in self._popular:
                if start <= birth_year <= end or birth_year < start:
                    return self.rng.choice(names["male" if male else "female"])
            return self.rng.choice(self._popular[-1][2]["male" if male else "female"])
        if roll < 0.5:
            return self.rng.choice(self._single_given[male])
        return self.rng.choice(self._first_chars[male]) + self.rng.choice(self._second_chars[male])

    def age_group(self) -> AgeGroup:
        return self.rng.choices(self._age_groups, cum_weights=self._age_cw)[0]

    def birth_date(self, age_group: AgeGroup) -> date:
        low, high = AGE_RANGES[age_group]
        age_days = self.rng.randint(low * 365 + low // 4, high * 365 + high // 4 + 364)
        return self.reference_date - timedelta(days=age_days)

    def occupation(self, age_group: AgeGroup) -> str:
        if age_group == AgeGroup.OVER_60 and self.rng.random() < 0.6:
            return "退休人员"
        return self.rng.choice(self._occupations)

    def person(self, region_code: str, *, surname: str | None = None,
               age_group: AgeGroup | None = None) -> Person:
        male = self.rng.random() < 0.5
        age_group = age_group or self.age_group()
        birth = self.birth_date(age_group)
        surname = surname or self.surname()
        return Person(
            name=surname + self.given_name(male, birth.year),
            surname=surname,
            male=male,
            birth_date=birth,
            age_group=age_group,
            occupation=self.occupation(age_group),
            phone=self.phone(),
            id_card_number=self.id_card_number(region_code, birth, male),
        )

    def relative_name(self, holder: Person) -> tuple[str, AgeGroup]:
        """A family member's name: a spouse (any surname) or a grown child (holder's surname)."""
        if holder.age_group in (AgeGroup.FROM_45_TO_59, AgeGroup.OVER_60) and self.rng.random() < 0.6:
            age_group = AgeGroup.UNDER_30 if holder.age_group == AgeGroup.FROM_45_TO_59 else AgeGroup.FROM_30_TO_44
            birth = self.birth_date(age_group)
            return holder.surname + self.given_name(self.rng.random() < 0.5, birth.year), age_group
        birth = self.birth_date(holder.age_group)
        return self.surname() + self.given_name(not holder.male, birth.year), holder.age_group

    # --- organisations -----------------------------------------------------------------------

    def organisation_name(self, kind: str, *, county_short: str, town_short: str) -> tuple[str, str]:
        """(name, 统一社会信用代码 kind prefix) for ``kind`` in company / shop / rural / irrigation /
        institution."""
        org = self.data["organisation"]
        rng = self.rng
        place = town_short if (town_short and rng.random() < 0.6) else county_short
        if kind == "company":
            form = rng.choices(self._company_forms, cum_weights=self._company_form_cw)[0]
            name = f"{county_short}{rng.choice(org['trade_name_stems'])}{rng.choice(org['industries'])}{form}"
            return name, "91"
        if kind == "shop":
            shop_form = rng.choice(org["small_business_forms"])
            if rng.random() < 0.5:
                return f"{place}{rng.choice(self._single_surnames)}记{shop_form}", "92"
            return f"{place}{rng.choice(org['trade_name_stems'])}{shop_form}", "92"
        if kind == "rural":
            rural_form = rng.choice(org["rural_forms"])
            if rng.random() < 0.6:
                return f"{place}{rng.choice(org['rural_products'])}{rural_form}", "93"
            return f"{place}{rng.choice(org['trade_name_stems'])}{rural_form}", "93"
        if kind == "irrigation":
            return f"{place}{rng.choice(('灌溉站', '排涝站', '农业用水站'))}", "12"
        institution = rng.choice(org["institutions"])
        if institution == "村民委员会":
            return f"{town_short or county_short}{rng.choice(self.data['village_stems'])}村{institution}", "54"
        if institution == "居民委员会":
            return f"{town_short or county_short}{rng.choice(self.data['compound_stems'])}社区{institution}", "54"
        if institution in ("人民政府", "街道办事处", "派出所"):
            return f"{place}{institution}", "11"
        return f"{place}{institution}", "12"
