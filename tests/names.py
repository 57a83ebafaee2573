"""Generated names for the sound-alike search tests and benchmark: common English first names and
surnames, combined at random (no real person is meant), and the misspellings people make of them.

`misspellings(word)` lists (kind, spelling) of the slips a phonetic index is built to absorb: a
doubled consonant written once or a single one doubled, a vowel written as another, ph for f and f
for ph, y for i and i for y. `any_slips(word)` adds those that change how the word sounds (a vowel
that softens or hardens a c or g, a vowel before "gh", a consonant doubled beside another): the benchmark
reports how many of those are still found.
"""
VOWELS = "aeiou"

FIRST_NAMES = [
    'John', 'Jonathan', 'Sarah', 'Stephen', 'Philippa', 'Michael', 'Catherine', 'Christopher', 'Joseph',
    'Elizabeth', 'Mohammed', 'Aisha', 'Oliver', 'Sophie', 'Daniel', 'Matthew', 'Rebecca', 'Thomas', 'Emily',
    'Jessica', 'Lucy', 'Hannah', 'Jack', 'Harry', 'Chloe', 'Amelia', 'Ryan', 'Bethany', 'Kyle', 'Leanne',
    'Graham', 'Phillip', 'Lindsay', 'Kerry', 'Tracey', 'Wayne', 'Darren', 'Stacey', 'Gemma', 'Zoe',
]

LAST_NAMES = [
    'Smith', 'Jones', 'Williams', 'Taylor', 'Brown', 'Davies', 'Evans', 'Wilson', 'Thomas', 'Johnson',
    'Roberts', 'Robinson', 'Thompson', 'Wright', 'Walker', 'White', 'Edwards', 'Hughes', 'Green', 'Hall',
    'Lewis', 'Harris', 'Clarke', 'Patel', 'Jackson', 'Wood', 'Turner', 'Martin', 'Cooper', 'Hill', 'Ward',
    'Morris', 'Moore', 'Clark', 'Lee', 'King', 'Baker', 'Harrison', 'Morgan', 'Allen', 'James', 'Scott',
    'Phillips', 'Watson', 'Davis', 'Parker', 'Price', 'Bennett', 'Young', 'Griffiths', 'Mitchell', 'Kelly',
    'Cook', 'Carter', 'Richardson', 'Bailey', 'Collins', 'Bell', 'Shaw', 'Murphy', 'Miller', 'Cox',
    'Richards', 'Khan', 'Marshall', 'Anderson', 'Simpson', 'Ellis', 'Adams', 'Singh', 'Begum', 'Wilkinson',
    'Foster', 'Chapman', 'Powell', 'Webb', 'Rogers', 'Gray', 'Mason', 'Ali', 'Hunt', 'Hussain', 'Campbell',
    'Matthews', 'Owen', 'Palmer', 'Holmes', 'Mills', 'Barnes', 'Knight', 'Lloyd', 'Butler', 'Russell',
    'Barker', 'Fisher', 'Stevens', 'Jenkins', 'Murray', 'Dixon', 'Harvey', 'Graham', 'Pearson', 'Ahmed',
    'Fletcher', 'Walsh', 'Kaur', 'Gibson', 'Howard', 'Andrews', 'Stewart', 'Elliott', 'Reynolds',
    'Saunders', 'Payne', 'Fox', 'Ford', 'Pearce', 'Day', 'Brooks', 'West', 'Lawrence', 'Cole', 'Atkinson',
    'Bradley', 'Spencer', 'Gill', 'Dawson', 'Ball', 'Burton', "O'Brien", 'Watts', 'Rose', 'Booth', 'Perry',
    'Ryan', 'Grant', 'Wells', 'Armstrong', 'Francis', 'Rees', 'Hayes', 'Hart', 'Hudson', 'Newman',
    'Barrett', 'Webster', 'Hunter', 'Gregory', 'Carr', 'Lowe', 'Page', 'Marsh', 'Riley', 'Dunn', 'Woods',
    'Parsons', 'Berry', 'Stone', 'Reid', 'Holland', 'Hawkins', 'Harding', 'Porter', 'Robertson', 'Newton',
    'Oliver', 'Reed', 'Kennedy', 'Williamson', 'Bird', 'Gardner', 'Shah', 'Dean', 'Lane', 'Cooke', 'Bates',
    'Henderson', 'Parry', 'Burgess', 'Bishop', 'Walton', 'Burns', 'Nicholson', 'Shepherd', 'Ross', 'Cross',
    'Long', 'Freeman', 'Warren', 'Nicholls', 'Hamilton', 'Byrne', 'Sutton', 'McDonald', 'Yates', 'Hodgson',
    'Robson', 'Curtis', 'Hopkins', "O'Connor", 'Harper', 'Coleman', 'Watkins', 'Moss', 'McCarthy',
    'Chambers', "O'Neill", 'Griffin', 'Sharp', 'Hardy', 'Wheeler', 'Potter', 'Osborne', 'Johnston',
    'Gordon', 'Doyle', 'Wallace', 'George', 'Jordan', 'Hutchinson', 'Rowe', 'Burke', 'May', 'Pritchard',
    'Gilbert', 'Willis', 'Higgins', 'Read', 'Miles', 'Stevenson', 'Stephenson', 'Hammond', 'Arnold',
    'Buckley', 'Walters', 'Hewitt', 'Barber', 'Nelson', 'Slater', 'Austin', 'Sullivan', 'Whitehouse',
    'Phelps', 'Smyth',
]


def _slips(word, sound_preserving):
    low = word.lower()
    found = []
    for i in range(1, len(low)):
        c, prev, nxt = low[i], low[i - 1], low[i + 1] if i + 1 < len(low) else ""
        if c.isalpha() and c not in VOWELS and prev != c and nxt != c:
            if not sound_preserving or (c not in "hcgw" and prev in VOWELS and (nxt in VOWELS or not nxt)):
                found.append(("doubled", low[:i] + c + low[i:]))
        if nxt == c:
            found.append(("undoubled", low[:i] + low[i + 1:]))
        # A vowel after c or g (or ch, gh) decides how they sound: "Cathy" and "Cethy", "Chambers"
        # and "Chembers" (as in chemist); before "gh" it decides whether the gh is heard.
        near = low[max(0, i - 2):i]
        if c in VOWELS and (not sound_preserving or ("c" not in near and "g" not in near
                                                     and low[i + 1:i + 3] != "gh")):
            found.extend(("vowel", low[:i] + v + low[i + 1:]) for v in VOWELS if v != c)
        if c == "y":
            found.append(("y for i", low[:i] + "i" + low[i + 1:]))
        if c == "i" and (not sound_preserving or low[i + 1:i + 3] != "gh"):
            found.append(("i for y", low[:i] + "y" + low[i + 1:]))
    if "ph" in low:
        found.append(("f for ph", low.replace("ph", "f", 1)))
    if "f" in low and (not sound_preserving or "ff" not in low):
        found.append(("ph for f", low.replace("f", "ph", 1)))
    return [(kind, spelling.capitalize()) for kind, spelling in found if spelling != low]


def misspellings(word):
    """The slips of `word` that leave its sound unchanged: (kind, spelling)."""
    return _slips(word, sound_preserving=True)


def any_slips(word):
    """Every slip of the kinds above, including those that change the sound."""
    return _slips(word, sound_preserving=False)
