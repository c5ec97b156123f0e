"""Made-up task documents for tests/fixtures/lmeval/ (written for this project, public domain).

Each list holds documents in the field layout of the Hugging Face dataset that
lm-evaluation-harness reads for the task (formats.md §6.2). make_lmeval_ref.py writes them
as jsonl. A few documents carry the quirks the harness has to cope with: WikiHow bracket
tags and double spaces (HellaSwag), a lower-case ctx_b with capitals inside (str.capitalize
lower-cases the rest), leading/trailing whitespace, non-ASCII text (acc_norm divides by
characters, not bytes), numeric ARC labels, 3 and 5 ARC choices, a WinoGrande blank
followed by "'s", and a LAMBADA passage longer than the model's context.
"""

HELLASWAG = [
    {"ind": 101, "activity_label": "Making a sandwich",
     "ctx_a": "A man stands at a kitchen counter with a loaf of bread and a jar of peanut butter.",
     "ctx_b": "he",
     "endings": ["spreads peanut butter on two slices and presses them together.",
                 "throws the bread into the sink and leaves the room.",
                 "paints the jar blue and hangs it on the wall.",
                 "starts running laps around the kitchen table."],
     "source_id": "activitynet~v_made_up_001", "split": "val", "split_type": "indomain", "label": "0"},
    {"ind": 102, "activity_label": "Home and Garden",
     "ctx_a": "[header] How to repot a houseplant [title] Choose a slightly larger pot. [step] The new pot should be one or two inches wider than the old one.",
     "ctx_b": "",
     "endings": ["[title] Water the plant a day before repotting. [step] Moist soil holds together and slides out of the pot more easily.",
                 "[title] Buy a new plant. [step] Old plants cannot be moved once they have roots.",
                 "[title] Paint the pot. [substeps] Use  bright colors so the plant can see them.",
                 "[title] Put the pot in the freezer. [step] Cold pots are easier to clean."],
     "source_id": "wikihow~90001", "split": "val", "split_type": "zeroshot", "label": "0"},
    {"ind": 103, "activity_label": "Using a laptop",
     "ctx_a": "A woman sits on a train with a laptop on her knees.",
     "ctx_b": "the woman opens a map and checks the GPS route to the station.",
     "endings": ["She closes the laptop when the train reaches her stop.",
                 "She eats the laptop for lunch.",
                 "She jumps out of the window of the moving train.",
                 "She turns into a bird and flies away."],
     "source_id": "activitynet~v_made_up_002", "split": "val", "split_type": "indomain", "label": "0"},
    {"ind": 104, "activity_label": "Food and Entertaining",
     "ctx_a": "[header] How to make a simple crème brûlée [title] Heat the cream. [step] Warm the cream in a saucepan until small bubbles form at the edge.",
     "ctx_b": "",
     "endings": ["[title] Whisk the yolks with sugar. [step] Pour the warm cream slowly into the yolks while you keep whisking.",
                 "[title] Boil the cream for an hour. [step] The cream should turn black.",
                 "[title] Add salt. [step] A whole cup of salt gives the dessert its famous taste.",
                 "[title] Serve it raw. [step] Guests prefer a naïve café-style dish."],
     "source_id": "wikihow~90002", "split": "val", "split_type": "zeroshot", "label": "0"},
    {"ind": 105, "activity_label": "Playing the guitar",
     "ctx_a": "A boy sits on a stool holding an acoustic guitar.",
     "ctx_b": "He",
     "endings": [" tunes the strings and begins to strum a slow song. ",
                 "hits the guitar with a hammer until it breaks.",
                 "uses the guitar as a paddle in a canoe.",
                 "puts the guitar in the oven to warm it up."],
     "source_id": "activitynet~v_made_up_003", "split": "val", "split_type": "indomain", "label": "0"},
    {"ind": 106, "activity_label": "Washing a car",
     "ctx_a": "A man fills a bucket with soapy water next to a red car.",
     "ctx_b": "he dips a sponge in the bucket and",
     "endings": ["scrubs the hood of the car in small circles.",
                 "drinks the soapy water from the bucket.",
                 "throws the sponge at a passing  bus.",
                 "buries the sponge in the garden."],
     "source_id": "activitynet~v_made_up_004", "split": "val", "split_type": "indomain", "label": "0"},
    {"ind": 107, "activity_label": "Personal Care and Style",
     "ctx_a": "[header] How to tie a tie [title] Drape the tie around your neck. [step] The wide end should hang about twelve inches below the narrow end.",
     "ctx_b": "",
     "endings": ["[title] Cross the wide end over the narrow end. [step] Then bring it up through the loop around your neck.",
                 "[title] Cut the tie in half. [step] Two short ties are easier to tie than one long tie.",
                 "[title] Put the tie in the washing machine. [step] It will tie itself during the spin cycle.",
                 "[title] Glue the ends together. [step] Use [a lot\nof] glue so it holds."],
     "source_id": "wikihow~90003", "split": "val", "split_type": "zeroshot", "label": "0"},
    {"ind": 108, "activity_label": "Skiing",
     "ctx_a": "A group of people ride a chair lift to the top of a snowy hill.",
     "ctx_b": "they",
     "endings": ["get off the lift and ski down the slope one after another.",
                 "stay on the lift and fall asleep in the sun until summer.",
                 "take off their skis and plant them like trees in the snow.",
                 "jump from the lift into a swimming pool [unfinished"],
     "source_id": "activitynet~v_made_up_005", "split": "val", "split_type": "indomain", "label": "0"},
    {"ind": 109, "activity_label": "Baking cookies",
     "ctx_a": "A girl pours flour, sugar and butter into a large bowl.",
     "ctx_b": "she mixes the dough with a wooden spoon and",
     "endings": ["rolls it into small balls on a baking tray.",
                 "feeds the whole bowl to the dog.",
                 "sends the dough to her aunt by mail.",
                 "plants the dough in a flower pot."],
     "source_id": "activitynet~v_made_up_006", "split": "val", "split_type": "indomain", "label": "0"},
    {"ind": 110, "activity_label": "Cleaning windows",
     "ctx_a": "A man climbs a short ladder in front of a dusty window.",
     "ctx_b": "he sprays the glass with cleaner and",
     "endings": ["wipes it dry with a cloth until it shines.",
                 "paints a picture of a window on the glass.",
                 "leaves the ladder to go swimming in the lake.",
                 "throws the bottle of cleaner at the roof."],
     "source_id": "activitynet~v_made_up_007", "split": "val", "split_type": "indomain", "label": "0"},
]

# gold answers are rotated below so that the right ending is not always the first one
HELLASWAG_GOLD = [0, 2, 1, 3, 0, 2, 1, 3, 2, 1]

PIQA = [
    {"goal": "How do you keep a cut apple from turning brown?",
     "sol1": "Brush the cut side with a little lemon juice.",
     "sol2": "Leave the cut side in the sun for an hour.", "label": 0},
    {"goal": "To open a jar whose lid is stuck,",
     "sol1": "put the jar in the freezer for a day.",
     "sol2": "run the lid under hot water for a minute, then twist it.", "label": 1},
    {"goal": "How can you find a small screw that fell on a carpet?",
     "sol1": "Cover the end of a vacuum hose with a thin sock and run it over the carpet.",
     "sol2": "Pour water on the carpet so the screw floats up.", "label": 0},
    {"goal": "Make a paper airplane fly farther.",
     "sol1": "Fold the wings unevenly so it spins.",
     "sol2": "Make sharp, even folds and keep the nose slightly heavy.", "label": 1},
    {"goal": "How do you remove a splinter from a finger?",
     "sol1": "Clean the area, then pull the splinter out with clean tweezers along the angle it went in.",
     "sol2": "Hit the finger with a spoon until the splinter comes out.", "label": 0},
    {"goal": "To keep bread fresh for longer,",
     "sol1": "store it in a sealed bag at room temperature or freeze slices.",
     "sol2": "leave it open on a sunny windowsill.", "label": 0},
    {"goal": "How to dry wet shoes quickly?",
     "sol1": "Put them in the microwave for ten minutes.",
     "sol2": "Stuff them with newspaper and replace the paper every few hours.", "label": 1},
    {"goal": "How do you make a candle burn more evenly?",
     "sol1": "Let it burn the first time until the whole top layer has melted.",
     "sol2": "Blow it out after one minute each time you light it.", "label": 0},
    {"goal": "To cool a hot drink faster,",
     "sol1": "pour it back and forth between two cups a few times.",
     "sol2": "cover the cup with a thick wool blanket.", "label": 0},
    {"goal": "How can you tell whether an egg is still fresh?",
     "sol1": "Place it in a bowl of water: a fresh egg sinks and lies flat.",
     "sol2": "Shake it next to your ear and listen for music.", "label": 0},
    # acc_norm divides by characters (str length), not UTF-8 bytes: here the two differ
    {"goal": "How do you greet a guest in a French café?",
     "sol1": "Nod politely.",
     "sol2": "Dites « bonjour » — très poliment, s’il vous plaît.", "label": 1},
]

ARC_EASY = [
    {"id": "MadeUp_2001", "question": "Which of these is the best conductor of electricity?",
     "choices": {"text": ["copper wire", "wooden stick", "rubber band", "glass rod"], "label": ["A", "B", "C", "D"]},
     "answerKey": "A"},
    {"id": "MadeUp_2002", "question": "A student puts a glass of water in a freezer. What will most likely happen to the water after several hours?",
     "choices": {"text": ["It will boil.", "It will turn into ice.", "It will turn into gas.", "It will become salty."], "label": ["A", "B", "C", "D"]},
     "answerKey": "B"},
    {"id": "MadeUp_2003", "question": "Which part of a plant takes in water from the soil?",
     "choices": {"text": ["flower", "leaf", "root", "seed"], "label": ["1", "2", "3", "4"]},
     "answerKey": "3"},
    {"id": "MadeUp_2004", "question": "What causes day and night on Earth?",
     "choices": {"text": ["Earth rotating on its axis", "the Moon orbiting Earth", "clouds covering the Sun"], "label": ["A", "B", "C"]},
     "answerKey": "A"},
    {"id": "MadeUp_2005", "question": "Which tool would a scientist use to measure the mass of a rock?",
     "choices": {"text": ["thermometer", "balance", "ruler", "graduated cylinder", "compass"], "label": ["A", "B", "C", "D", "E"]},
     "answerKey": "B"},
    {"id": "MadeUp_2006", "question": "Which animal is a mammal?",
     "choices": {"text": ["frog", "salmon", "whale", "lizard"], "label": ["A", "B", "C", "D"]},
     "answerKey": "C"},
    {"id": "MadeUp_2007", "question": "What is the main source of energy for most life on Earth?",
     "choices": {"text": ["the Sun", "volcanoes", "the Moon", "the ocean floor"], "label": ["A", "B", "C", "D"]},
     "answerKey": "A"},
    {"id": "MadeUp_2008", "question": "A ball rolls across a carpet and slowly stops. Which force makes the ball stop?",
     "choices": {"text": ["magnetism", "friction", "gravity pulling sideways", "buoyancy"], "label": ["A", "B", "C", "D"]},
     "answerKey": "B"},
    {"id": "MadeUp_2009", "question": "Water changing from a liquid to a gas is called",
     "choices": {"text": ["condensation", "freezing", "evaporation", "melting"], "label": ["A", "B", "C", "D"]},
     "answerKey": "C"},
    {"id": "MadeUp_2010", "question": "Which of these materials is attracted to a magnet?",
     "choices": {"text": ["an aluminum can", "a paper clip made of iron", "a plastic spoon", "a cotton shirt"], "label": ["A", "B", "C", "D"]},
     "answerKey": "B"},
]

WINOGRANDE = [
    {"sentence": "The trophy would not fit into the suitcase because the _ was too small.",
     "option1": "trophy", "option2": "suitcase", "answer": "2"},
    {"sentence": "Sarah lent her bike to Emily because _ did not need it that weekend.",
     "option1": "Sarah", "option2": "Emily", "answer": "1"},
    {"sentence": "The soup was colder than the tea, so Mark heated the _ first.",
     "option1": "soup", "option2": "tea", "answer": "1"},
    {"sentence": "Kevin always beats Brian at chess because _ studies the openings every night.",
     "option1": "Kevin", "option2": "Brian", "answer": "1"},
    {"sentence": "The cat chased the mouse until the _ hid under the heavy sofa.",
     "option1": "cat", "option2": "mouse", "answer": "2"},
    {"sentence": "Rachel asked Maria to fix the sink since _'s hands were covered in paint.",
     "option1": "Rachel", "option2": "Maria", "answer": "1"},
    {"sentence": "The candle melted faster than the crayon because the _ was closer to the fire.",
     "option1": "candle", "option2": "crayon", "answer": "1"},
    {"sentence": "Jason wanted to borrow a book from Derek, but _ had already returned it to the library.",
     "option1": "Jason", "option2": "Derek", "answer": "2"},
    {"sentence": "The plant grew well in the pot but not in the box, because the _ had no holes for water.",
     "option1": "pot", "option2": "box", "answer": "2"},
    {"sentence": "Laura could not lift the table alone, so she asked Nina, since _ was much stronger.",
     "option1": "Laura", "option2": "Nina", "answer": "2"},
]

LAMBADA = [
    "The old fisherman pulled the net into the boat and counted what the sea had given him. "
    "There were three small cod and one crab that kept trying to climb over the side. "
    "He laughed, threw the crab back into the water, and started the engine to head for the",
    "Anna had practiced the piece every evening for a month. When she finally sat down at the "
    "piano in front of the judges, her hands stopped shaking. She played the last chord, "
    "lifted her fingers from the keys, and waited for the",
    "\"Have you seen my glasses?\" asked Grandpa, patting the pockets of his coat. Lily pointed "
    "at his forehead and giggled. He reached up, found them resting there, and put on his",
    "The rain had not stopped for three days, and the river rose higher every hour. The "
    "villagers stacked sandbags along the bank and carried their furniture upstairs. On the "
    "fourth morning the water finally began to fall, and everyone came out to look at the",
    "Tom opened the letter with trembling hands. It was from the university he had dreamed "
    "about since he was a child. He read the first line twice before he believed it, then "
    "ran to the kitchen to tell his",
    "The baker woke at four every morning to light the ovens. By six the smell of fresh "
    "rolls drifted down the street, and a line of sleepy customers waited outside the door. "
    "Each of them left with a warm paper bag of",
    # longer than the model's 256-token window: lm-eval truncates it from the left
    "The lighthouse keeper kept a notebook for every storm he had ever watched from the "
    "tower. In the first notebook he wrote about the winter when the ice closed the harbor "
    "and the supply boat could not reach the island for six weeks. In the second he described "
    "the autumn gale that tore the roof off the boathouse and carried a rowing boat halfway "
    "up the hill. The third notebook was mostly about fog, the thick grey kind that swallowed "
    "the beam of the lamp a few yards from the glass, so that ships had to listen for the horn "
    "instead of looking for the light. Visitors sometimes asked him whether he was lonely out "
    "there with only the gulls and the wind for company. He always told them that the sea "
    "was never the same two days in a row, and that a man who paid attention would never run "
    "out of things to write down. When he finally retired, he gave all of the notebooks to the "
    "small museum in the harbor town, where children still read them on rainy afternoons. The "
    "last page of the last notebook held only one short sentence about the",
    "Mia planted sunflower seeds in a row along the fence in April. She watered them every "
    "morning before school and measured them every Sunday with a yellow tape. By August the "
    "tallest one was taller than her father, and its heavy head turned slowly to follow the",
    "The detective looked at the muddy footprints on the kitchen floor. They led from the back "
    "door to the pantry and stopped there. He opened the pantry slowly and found the missing "
    "dog asleep on a sack of",
]
# one more passage is added by make_lmeval_ref.py: its last word is the tiny model's greedy
# prediction, so that lambada acc (greedy match) is not trivially 0 with random weights
LAMBADA_GREEDY_CANDIDATES = [
    "The two friends walked along the beach at sunset, talking about the summer that was "
    "almost over. They promised to write to each other every week and to meet again at the",
    "After the long hike the children sat by the fire and shared the last of the",
    "The teacher wrote the answer on the board and asked the class to copy it into their",
    "When the train finally arrived, the crowd on the platform pushed forward toward the",
    "The cook tasted the soup, frowned, and reached for the",
    "Every night before bed, the little boy asked his mother to read him a story about the",
    "The gardener wiped the sweat from his face and looked proudly at the",
    "She folded the letter, sealed the envelope, and walked to the",
    "The storm knocked out the power, so the family lit candles and played cards at the",
    "The scientist checked the numbers again and smiled at the",
    "He put the keys on the table, took off his boots, and sat down in the",
    "The puppy chewed the slipper until nothing was left but the",
]
