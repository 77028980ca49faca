"""Does fine-tuning on a few corrections help, in the situations users meet?

    .venv/bin/python benchmarks/finetune_gain.py [--cases one-volume same-domain new-modality
        unseen-volume] [--recipes previous product] [--base-epochs 25] [--starter-epochs 60]
        [--base-dir /tmp/qtseg-starter-without-lung2] [--seeds 0 1 2] [--input-size 256]
        [--json rows.json]

``--seeds`` runs each fine-tune once per training seed (shuffle and augmentation; the
base model is the same); ``--input-size`` trains at that canvas instead of the planned
one; ``--json`` writes each row with its per-image scores (for paired comparisons).

Each case builds a fine-tune job the way the product does (the split is the
product's ``plan_split``: slice blocks with a gap inside one or few volumes,
never validating on images the model was trained on), runs the engine behind
the app's button (``run_finetune``) with each recipe, and scores the model
before and after on images nobody corrected; the gate's verdict is the
product's (``evidence.judge``). Figures only; no pass/fail.

- one-volume: the starter model (qtseg_core/resources/models) meets brain2, a brain MRI
  volume it never saw (3 lesion slices in ../shared/data): z008 and z010 are
  corrected (their ground truth; the plan trains on z008 and validates on
  z010), the untouched z009 between them is scored.
- same-domain: the demo: the starter meets corrections of images like its
  training ones: brain1 (which it learnt; replayed, never validated on) and
  lung1 z032-z033 (a CT volume it did not learn); scored on the untouched
  lung1 z034 and brain2 slices.
- unseen-volume: a volume no model of the product has seen, with most of
  its slices corrected: the starter's recipe (examples/train_starter_model.py,
  60 epochs instead of 150, ~10 min on 1 thread) trained without lung2 (a CT
  volume of 11 lesion slices), then lung2 z015-z022 corrected (the plan
  trains on 5, leaves 1 out as a gap and validates on the last 2), z023 left
  out as the plan's gap, and the untouched z024-z025 scored. The base model
  is trained once into ``--base-dir`` and reused.
- atlas-volume: the issue's check as the user meets it, on an MRI volume the
  starter never saw (``--atlas``: a task of benchmarks/atlas_proxy.py, 74
  axial slices of the MNI atlas; default /tmp/atlas/brain): a workspace on its
  slices with the bundled starter, the 12 middle slices corrected with their
  true masks and accepted, then what `qtseg finetune WORKSPACE` runs
  (``plan_finetune`` with the product's recipe, ``run_finetune``,
  ``apply_outcome``); scored on the slices more than ``block_gap`` (4) slices
  away from the corrected block, for the starter and for the model the gate
  kept. The recipe is chosen on the fine-tune's own validation slices (the
  gate's figures), never on the scored ones.
- atlas-choosing: the set a recipe is chosen on, apart from the check's
  scored slices: the same protocol with the 12 slices block_gap beyond the
  check's far side corrected (mni_z107-z129: 10 train, 2 validate), scored on
  the check's own block and its gaps (mni_z063-z101, 20 slices), which the
  check trains or validates on, or skips, but never scores.
- the choosing set since session 7: atlas-volume, the check's own protocol
  and slices (top and bottom of the brain scored), on another label of the
  same template: ``--cases atlas-volume --atlas ATLAS/wm`` (white matter, the
  wm task of benchmarks/atlas_proxy.py; the nilearn wheel holds no CSF map).
  No grey-matter or brain figure chooses; figures and how it compares with
  atlas-choosing at the end.
- new-modality: a tiny QTSeg trained here on the CT/MRI volumes (never
  microscopy) meets the DSB2018 nuclei field cut into 16 tiles of 128²: 5
  tiles spread over the field are corrected, the other 11 are scored.

Recipes: ``previous`` is the recipe before issue 10 (AdamW lr 1e-3 constant on
every layer, BatchNorm statistics updated, 60 epochs, patience 15);
``product`` is ``finetune_recipe(n)``, what the app and ``qtseg finetune`` use.

Measured 2026-12-01 (2 shared CPU cores, OMP_NUM_THREADS=1, load ~10; Dice x100
on the images nobody corrected, "gate" = validation Dice old -> new):

    one-volume   previous  0.0 -> 2.8    gate 0.0 -> 0.2   accepted  21 epochs   284 s
    one-volume   product   0.0 -> 23.3   gate 0.0 -> 46.5  accepted  53 epochs  1165 s
    new-modality previous 19.5 -> 81.4   gate 27.9 -> 86.2 accepted  44 epochs   351 s
    new-modality product  19.5 -> 83.0   gate 27.9 -> 86.4 accepted  60 epochs   424 s
    same-domain  previous  9.1 -> 1.4    gate 0.0 -> 9.0   accepted  17 epochs   637 s
    same-domain  product   not measured (stopped for CPU time)

The previous recipe wrecked the demo (9.1 -> 1.4 on untouched slices) and
its gate, judging on one slice, let it through; the verdict now says "very
uncertain" for so few images. One validation slice is what one 3-slice volume
allows; the 80-Dice goal for one volume is not reached with these data.

Measured 2026-12-01 14:05-14:18, after TARGET_STEPS 60 -> 160 (same machine,
load 7-8, the base model trained once, 60 epochs, 11.6 validation Dice):

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/finetune_gain.py \
        --cases unseen-volume one-volume --recipes product --base-dir /tmp/ft10b/base-lung2

    unseen-volume product  0.0 -> 32.2   gate 0.0 -> 76.5  accepted  53 epochs (best 27)  497 s
    one-volume    product  0.0 -> 0.0    gate 0.0 -> 0.0   accepted  27 epochs (best 1)    77 s
    new-modality  product  0.0 -> 85.2   gate 0.0 -> 89.2  accepted  80 epochs (best 80)  153 s
      (--cases new-modality --recipes product, 14:25; with 60 steps, the recipe
      before, on the same base: 0.0 -> 78.7, gate 0.0 -> 86.4, 60 epochs. Today's
      25-epoch base scores 0.0 on the tiles, not the 19.5 above.)

Recipe variants on the unseen-volume case (same base; the scratch runs
replaced ``finetune_recipe``'s result or the engine's TrainConfig; Dice on
the untouched z024 / z025, gate on z021-z022):

    60 steps (the recipe before)                 0.0 -> 2.8   gate 0.0 -> 12.4  18 ep  174 s
    60 steps, 512 canvas, 256 patches, 1/3 on
      foreground (nnU-Net's oversampling; a
      trial patch sampler, not kept)             0.0 -> 1.4   gate 0.0 -> 5.1   18 ep  190 s
    160 steps (kept)                             0.0 -> 32.2  gate 0.0 -> 76.5  54 ep  322 s
    160 steps, cosine decay after the warm-up    0.0 -> 38.1  gate 0.0 -> 83.5  60 ep  433 s
      (z024 59.5, z025 16.8)

With 60 steps no variant had begun to find the lesion (train loss ~1.03 =
nothing predicted); it appears after ~40 steps, and the validation Dice then
swings between 0 and 77 from one epoch to the next, at constant lr even
collapsing for good (epoch 29). Cosine decay was 6 Dice better on 2 scored
slices with one seed, inside that swing: not adopted on this evidence. The
one-volume case (1 training slice, 80 steps) learns nothing today with
either 60 or 160 steps (0.0 -> 0.0, the 60-step run stopped at epoch 21):
the 23.3 above, measured earlier the same day on older code, does not
reproduce. The issue's goal (>= 80 Dice on the untouched slices) is not met
on either volume.

Measured 2026-12-01 15:57-16:11 (load 6-9 on 2 cores, OMP_NUM_THREADS=1), the
atlas-volume case, /tmp/atlas/brain:

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/finetune_gain.py \
        --cases atlas-volume --recipes product

    atlas-volume  product  10 train, 2 val, 54 scored   5.9 -> 96.2
        gate 2.9 -> 99.1, v2 installed, 54 epochs (best 54)  741 s

    --atlas /tmp/atlas/gm (grey matter, the closer proxy; 16:49-17:01, load 8-10):
    atlas-volume  product  10 train, 2 val, 54 scored   5.1 -> 77.3
        gate 1.8 -> 89.2, v2 installed, 54 epochs (best 54)  686 s
    (the check's 80 is met on "brain", not on "gm")
    The same at a 320 canvas (the planner's thin-object rule: the ribbon is 6 px on
    the 233-px slices; branch issue10, not adopted), against 256 in the same
    session (17:38-17:50, load 0.5-1.6):
        320: 5.1 -> 73.5, gate 1.8 -> 91.2, 54 epochs (best 54)  380 s
        256: 5.1 -> 77.3, gate 1.8 -> 89.2, 54 epochs (best 54)  262 s
    +2.0 on the 2 validation slices ("very uncertain"), -3.8 on the 54 scored.

How the recipe was chosen (the job's own 2 validation slices z088/z090, the
gate's figure; short scratch runs on the same job, epochs 1-10):

    BatchNorm statistics frozen (the recipe before), paper augmentation:
        train loss stalls at ~1.27, validation Dice 0-52 from epoch to epoch
        (the 54-epoch product run: 0.0 at epoch 9, best 52.1 at epoch 7)
    frozen, no augmentation:        loss 1.27 by epoch 5, validation <= 45
    frozen after re-estimating them once on the 10 training slices (AdaBN):
                                    loss 1.27 by epoch 5, validation <= 44
    frozen, lr 1e-4 + cosine, light augmentation: loss 1.37 at epoch 6, <= 44
    statistics trained (BatchNorm in train mode), no augmentation:
                                    loss 0.72 at epoch 4, validation 52.6
    trained, paper augmentation (kept: the recipe freezes them only when the
    images do not fill one batch): validation 94.4 at epoch 4, 97.8 at 9

The other cases after that change (16:25-16:48, load 10-34; 5 and 4 training
images, so their statistics now train too):

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/finetune_gain.py \
        --cases unseen-volume new-modality --recipes product --base-dir /tmp/ft10b/base-lung2

    unseen-volume  product  0.0 -> 35.2  gate 0.0 -> 89.4  installed  80 ep (best 66)  882 s
        (frozen, before: 0.0 -> 32.2, gate 76.5)
    new-modality   product  0.0 -> 87.9  gate 0.0 -> 87.2  installed  80 ep (best 75)  261 s
        (frozen, before: 0.0 -> 85.2, gate 89.2)

The learning-rate schedule and the run's length (18:46-19:40, load 7-18 on 2
cores, OMP_NUM_THREADS=1; chosen on the job's own 2 validation slices and the
brain task, every grey-matter run listed; "last 5" = mean validation Dice of
the last 5 epochs on the training canvas, against a lucky peak):

    --cases atlas-volume --recipes product --atlas /tmp/atlas/gm | /tmp/atlas/brain
    10 train slices          gm scored    gm gate     last 5  brain scored  brain gate
    constant, 160 steps  5.1 -> 77.3  1.8 -> 89.2   88.6   5.9 -> 96.2   2.9 -> 99.1
    cosine, 160 steps    5.1 -> 81.4  1.8 -> 86.7   86.3   not run
    cosine, 240 steps    5.1 -> 80.4  1.8 -> 89.2   88.7   5.9 -> 96.0   2.9 -> 99.0
      (constant: 54 epochs, 262-686 s; cosine 160: 54, 897 s; cosine 240: 80 (best 75), 941 s;
       brain cosine 240: 80 (best 65), 1191 s)

Cosine over 160 steps validated lower (its train loss ended at 0.29, the
constant rate's at 0.24: the rate fell before the model had learnt enough);
over 240 steps it tied the constant rate on validation (89.2 both) and on
the brain task (96.0 against 96.2, within the 1 point set beforehand). Kept
on that tie for a smoother validation curve (no 8-point swings for the 2-slice
best epoch to land on) and the unseen-volume case, where cosine validated
better (gate 76.5 -> 83.5, frozen statistics then). The grey-matter scores
of all three were seen before the choice; the job's own 2 slices cannot
tell 77.3 from 80.4, so the check's >= 80 (+75 over the starter) is met by
a margin inside what one seed and one volume can tell.

The two cases not run since the statistics change, with this recipe (19:41-19:55,
load 0.5-11; --cases one-volume same-domain --recipes product):

    one-volume   product  1 train 1 val 1 scored   0.0 -> 0.0   gate 0.0 -> 0.0  old kept
        27 epochs (best 1)  319 s   (as at 14:05: one slice learns nothing here)
    same-domain  product  7 train 1 val 4 scored   9.1 -> 6.0   gate 0.0 -> 7.8  installed
        33 epochs (best 7)  334 s   (previous recipe: 9.1 -> 1.4; still worse than the
        starter on the untouched slices, and the gate, on its one lung1 slice, lets it in)

Choosing recipes apart from the check's scored slices (session 6, 21:27-22:22,
load 2-7 on 2 cores, OMP_NUM_THREADS=1; the rule written before the first run:
a candidate replaces the recipe only if its mean on the 20 choosing slices is
at least 1.0 higher than the recipe's and the 95 % bootstrap interval of the
paired per-slice difference lies above 0):

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/finetune_gain.py \
        --cases atlas-choosing --recipes product --atlas /tmp/atlas/gm
    (the dice-weight candidate: the same job with TrainConfig.dice_weight 3, a scratch run)

    atlas-choosing, gm   10 train 2 val 20 scored    choosing     gate        ep (best)  time
    product recipe (cosine, 240 steps)              1.2 -> 87.3  0.0 -> 87.1  80 (76)   2146 s
    dice weight 3 (CE 1)                            1.2 -> 87.2  0.0 -> 87.2  80 (79)    968 s
      difference on the 20 slices -0.05 (95 % interval -0.31 to +0.21), better on 10:
      not kept.
    360 steps (120 epochs, patience 40)             1.2 -> 88.9  0.0 -> 88.8 120 (89)    723 s
      (22:39-22:51, load 3-5) difference +1.66 (95 % interval +1.50 to +1.82), better on
      20 of 20: it passes the rule; the rule then asked for the check (atlas-volume) with
      it and kept it if brain stayed at 95.0 or above. Lead, 23:13-23:28, the two runs side
      by side on the otherwise idle 2-core machine (load 1.5-2.8), OMP_NUM_THREADS=1, on
      main's code with TARGET_STEPS 360 and at most 120 epochs:

    atlas-volume 360 steps  10 2 54  gm     5.1 -> 79.5  gate 1.8 -> 91.2  new  120/111  850 s
    atlas-volume 360 steps  10 2 54  brain  5.9 -> 96.4  gate 2.9 -> 99.3  new  120/99   847 s

      Brain 96.4 >= 95.0, so 360 steps is now the recipe. Grey matter on the check's 54
      untouched slices reads 79.5 against 80.4 for 240 steps last session (on the training
      code before this session's cheaper step, which changes results at rounding level): the
      choosing set's +1.66 did not carry over to the check's slices, and the check (>= 80) is
      not met on this proxy by 0.5.

The 20 choosing slices (mni_z063-z101, the middle of the brain) are easier
than the check's 54 (it scores the top and bottom of the brain too): 87.3
there against 80.4. Their per-slice scores spread by about 1 point, so the
interval above says nothing about seed-to-seed noise (one seed each).

The gate on few validation images (session 6): below 5 images a better model
is installed on its own only with a gain of at least 10 Dice on each of at
least 2 images (evidence.CLEAR_GAIN); otherwise it is "ask" in the table (the
app asks, showing old and new on each validation image; the CLI keeps the old
model unless --install-if-better). Of the rows above, the atlas checks (2
slices, mean gains of 87 and 96, so at least 75 on each) and unseen-volume
(0.0 -> 89.4 on 2) clear it; same-domain (0.0 -> 7.8 on its one slice) and
new-modality (one validation tile) are asked about.

The cases not run since the cosine schedule, with it and this gate (22:22-22:28,
load 4-7; --cases new-modality --recipes product; the base model trained
again, 25 epochs, best validation 1.9 on lung1):

    new-modality  product  4 train 1 val 11 scored  0.0 -> 77.5  gate 0.0 -> 74.6  ask
        57 epochs (best 31, early stop)  194 s
        (constant 160 steps, 16:25: 0.0 -> 87.9, gate 87.2, 80 epochs: 10 points
        lower now, one seed and a retrained base; not investigated for time)
    --cases unseen-volume --recipes product --base-dir /tmp/ft10b/base-lung2
    (22:30-22:38, load 6-7, the same base as at 16:25):
    unseen-volume product  5 train 2 val 2 scored   0.0 -> 32.2  gate 0.0 -> 89.4  installed
        66 epochs (best 40, early stop)  458 s
        (constant 160 steps, 16:25: 0.0 -> 35.2, gate 89.4; the goal of 80 not met here)

A choosing set that scores the hard ends too (session 7, rule written at
00:10 before any run: a candidate replaces the recipe only if its mean on the
54 white-matter slices is >= 1.0 above the recipe's and the 95 % bootstrap
interval of the paired per-slice difference lies above 0; then the check with
it, kept if brain stays >= 95.0). atlas_proxy.py now also writes "wm" (white
matter probability > 0.5); rebuilt into /tmp/issue10/s7/atlas, its brain and
gm tasks came out byte-identical to /tmp/atlas. One seed, one thread, 2 shared
cores; candidates run as scratch patches of finetune_recipe:

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/finetune_gain.py \
        --cases atlas-volume --recipes product --atlas /tmp/issue10/s7/atlas/wm

    atlas-volume, wm     10 train 2 val 54 scored   untouched    gate        ep (best)  time
    recipe (cosine, 360 steps, <= 120 epochs)       4.7 -> 67.1  4.3 -> 94.8 120 (93)  1929 s
      (00:07-00:40, load 1.3-7.8, two landing test runs beside it)
    240 steps (80 epochs, patience 26)              4.7 -> 66.3  4.3 -> 94.0  80 (65)   703 s
      (00:40-00:52, load 4.3-6.5)
      360 - 240: +0.85 (95 % interval +0.53 to +1.18), better on 40 of 54 (+1.24 on
      the bottom 27 slices, +0.46 on the top 27)
    light augmentation (DataConfig "light": 0-2 of  4.7 -> 67.5  4.3 -> 95.2 120 (113)  788 s
      flip, contrast, zoom 0.85-1.15, rotate 15, shift; the paper's is 0-4 of ten, zoom 0.5-2)
      (01:07-01:21, load 2.9-4.6, a landing test run beside it) against the recipe:
      +0.34 (95 % interval -0.47 to +1.05), better on 39 of 54: not kept.

White matter is harder than the check's grey matter at the ends: 18.9 on the
10 lowest slices (z013-z030, where the label is 23-2400 pixels), 75.3 on the
10 highest, 78.9 in between. On the one pair where the old choosing set and
the check disagreed (atlas-choosing: +1.66 for 360 steps, passing the rule;
the check's grey matter: 79.5 with 360 against 80.4 with 240, the latter on
older training code), white matter gives +0.85: below the rule's 1.0, so it
would not have changed the recipe, but it still leans the same way as the old
set, not the check's. One pair and one seed: weak evidence that it predicts
the check better.

new-modality again (session 7, 00:52-01:07, load 4-6; the base trained again,
25 epochs, best validation 4.7 on lung1 (1.9 in session 6: the training code
changed since); then on that one base the recipe, and the recipe with a
constant rate after the warm-up, everything else equal):

    --cases new-modality --recipes product   (constant: a scratch patch of the scheduler)
    new-modality  recipe (cosine, 360 steps)  4 train 1 val 11 scored  0.0 -> 86.3
        gate 0.0 -> 85.0  ask  120 epochs (best 86)  253 s
    new-modality  constant rate, 360 steps                             0.0 -> 86.7
        gate 0.0 -> 90.5  ask  120 epochs (best 106)  196 s

So the schedule is not what cost 10 points (87.9 -> 77.5): on one base, cosine
and constant differ by 0.4. The 77.5 run (240 steps) stopped early at epoch 57
with its best at 31, judged on one validation tile, from another base; with
the recipe's 360 steps (patience 40) neither run stopped, and the figure is
back to 86.3. 240 steps re-run on this base (01:24-01:26, load 1.5-2.3):
0.0 -> 83.7, gate 0.0 -> 82.0, 80 epochs (best 78), no early stop, 72 s. So on
one base 240 steps gives 83.7 and 360 gives 86.3; the rest of the fall to 77.5
came with session 6's base (validation 1.9 against 4.7 here) and its early
stop at 57: a base trained again, one seed each, not the schedule.

Issue 15's planner for the fine-tune's own data (session 8, 09:23-10:06, load
0.1-3.0 on 2 shared cores, OMP_NUM_THREADS=1, one seed; the rule written before
the first run: a candidate replaces the recipe only if its mean on the 54
white-matter slices is >= 1.0 above the recipe's, the 95 % bootstrap interval
of the paired per-slice difference lies above 0, and the gate still installs;
candidates as scratch patches of finetune_recipe / the engine's TrainConfig):

    --cases atlas-volume --recipes product --atlas /tmp/atlas/wm
    atlas-volume, wm     10 train 2 val 54 scored   untouched    gate        ep (best)  time
    recipe (batch 4, paper augmentation, 360 steps) 4.7 -> 69.0  4.3 -> 94.9 120 (94)   294 s
    (a) the planner's batch (plan_batch_size: 2),   4.7 -> 67.2  4.3 -> 94.3  72 (55)   126 s
        360 steps: -1.80 (95 % -2.65 to -1.02), better on 13 of 54
    (b) the planner's augmentation (plan_augmentation: "light", zoom x0.6-1.15)
                                                    4.7 -> 69.3  4.3 -> 95.1 120 (113)  194 s
        +0.31 (95 % -0.52 to +1.13), better on 29 of 54
    (c) both                                        4.7 -> 68.7  4.3 -> 94.8  72 (49)   131 s
        -0.33 (95 % -1.30 to +0.67), better on 26 of 54
    batch 2 for 120 epochs (600 steps, 1200 images seen against the recipe's 1440; after
        the choice, not a candidate)                4.7 -> 68.1  4.3 -> 95.0 120 (102)  225 s
        -0.89 (95 % -1.54 to -0.31) against the recipe, +0.91 against (a)

No candidate passed, so the fine-tune keeps its batch 4 and the paper's
augmentation, and the check's proxy was not re-run. Half of (a)'s loss is the
halved number of images seen at 360 steps; the smaller batch loses the rest.
The recipe reads 69.0 here against 67.1 in session 7 (training code changed
between, e.g. the cheaper step).

The fine-tune's canvas and the seeds' spread on the check's proxy (session 10,
2026-12-03 14:17-15:35, load 2-10 on 2 shared cores, OMP_NUM_THREADS=1, the two
arms side by side; the rule written before the first run: keep the planner's
canvas unless 256's mean over >= 3 seeds beats it by more than either arm's
range of seeds):

    --cases atlas-volume --recipes product --atlas /tmp/atlas/gm --seeds 0 1 2 3 \
        [--input-size 256] --json rows.json

    gm, 54 untouched   seed 0  seed 1  seed 2  seed 3   mean   range  gate (val)  time s
    planner (320)        78.3    84.0    86.4    84.5   83.32   8.1   91.8-92.9   906-1232
    256                  79.5    84.7    85.3    83.4   83.25   5.8   90.3-91.1   724-1027
    brain, seed 0: planner (224, native) 5.9 -> 96.2, gate 99.2, 244 s; 256: 96.6, gate 99.3, 348 s
      (session 9: 96.1 and 96.4; well above the check's 80 either way)

The canvases differ by 0.07 and a seed moves either by up to 8, so the planner's
canvas stays; the check's >= 80 on grey matter is met on average but not by
seed 0 in either arm. A seed changes the ends, not the middle: on the 34 scored
slices between the ten lowest and the ten highest, every run reads 86.7-90.0
(320: 88.9-90.0 for seeds 1-3, 256: 86.7-89.1 for seeds 0-3), on the two
validation slices 90-93, while the ten lowest (z013-z030, cerebellum and
temporal lobes, far from the corrected middle block) read 57-86 and the ten
highest 75-82. The gate's
validation slices cannot see that swing. The same seed 0 read 77.4 (planner) and
80.7 (256) one session before on the same training code: the one-thread CPU runs
are not repeatable to the point either.
The choosing sets' gains for 320 in session 9 (atlas-choosing +2.23, wm +3.24)
were one seed each; against ranges this wide they are weak evidence too. The
wm choosing set with seed 1 (15:36-15:45, load 1-5, the two side by side):
320 4.7 -> 71.2 (gate 96.0, 117 epochs, best 77, 521 s), 256 69.9 (gate 94.5,
120 / 96, 450 s): +1.35 (95 % interval over the 54 slices -0.96 to +3.67,
better on 31), the middle 34 slices +4.12, the ten lowest -9.30: 320 leads on
both seeds, and again the ends swing.

"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # examples/, run as a script

from examples.train_starter_model import build_dataset, train_command  # noqa: E402
from qtseg_core.cli import main as qtseg  # noqa: E402
from qtseg_core.finetune import (  # noqa: E402
    FinetuneJob,
    FinetuneSettings,
    TrainingPair,
    apply_outcome,
    plan_finetune,
    run_finetune,
)
from qtseg_core.finetune.engine import score_model  # noqa: E402
from qtseg_core.finetune.evidence import judge  # noqa: E402
from qtseg_core.finetune.job import planned_input_size  # noqa: E402
from qtseg_core.finetune.settings import finetune_recipe  # noqa: E402
from qtseg_core.resources import resource_path  # noqa: E402
from qtseg_core.training import resolve_config, train  # noqa: E402
from qtseg_core.workspace import ReviewStatus, Workspace  # noqa: E402
from qtseg_core.workspace.demo import register_starter  # noqa: E402
from qtseg_core.workspace.splits import SplitImage, block_gap, plan_split  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# ../shared/data beside the checkout, or beside the folder of worktrees holding it
SHARED = next((folder / "shared" / "data" for folder in REPO.parents
               if (folder / "shared" / "data").is_dir()), REPO.parent / "shared" / "data")
STARTER = resource_path("models/starter.safetensors")
TINY = {"base_width": 8, "decoder_depths": [1, 1, 1], "num_heads": 4, "mlp_dim": 64}
TILE = 128
PREVIOUS = FinetuneSettings(epochs=60, patience=15, lr=1e-3)
HELD_OUT = "lung2"  # the unseen-volume case's CT volume, left out of its base model
UNTOUCHED = 2  # slices at the end of it nobody corrects, scored
ATLAS_BLOCK = 12  # contiguous slices the atlas-volume case corrects and accepts


def shared_pair(index: int, name: str) -> TrainingPair:
    """A slice of ../shared/data by id (e.g. 'brain2_z008') as an image / mask pair."""
    image = next(SHARED.glob(f"*/images/{name}.png"))
    return TrainingPair(index, image.name, str(image), str(image.parent.parent / "masks" /
                                                           image.name))


def split_by_product(pairs: list[TrainingPair], seen: set[str] = frozenset()) -> tuple:
    """(train, val) of corrected ``pairs`` by the product's plan (groups = id before _z)."""
    images = [SplitImage(p.image_id, p.name, p.name.split("_z")[0] if "_z" in p.name else None,
                         seen_by_parent=p.name.split(".")[0] in seen,
                         has_foreground=bool(cv2.imread(p.mask, cv2.IMREAD_GRAYSCALE).any()))
              for p in pairs]
    plan = plan_split(images)
    by_id = {p.image_id: p for p in pairs}
    return tuple(by_id[i] for i in plan.train), tuple(by_id[i] for i in plan.val), plan.note


def one_volume(work: Path, args: argparse.Namespace) -> dict:
    first, middle, last = (shared_pair(i, f"brain2_z{z:03d}") for i, z in enumerate((8, 9, 10)))
    return {"base": STARTER, "corrected": [first, last], "scored": [middle], "seen": set()}


def same_domain(work: Path, args: argparse.Namespace) -> dict:
    seen = {f"brain1_z{z:03d}" for z in range(11, 18)}
    corrected = [shared_pair(i, name) for i, name in
                 enumerate(sorted(seen) + ["lung1_z032", "lung1_z033"])]
    scored = [shared_pair(20 + i, name) for i, name in
              enumerate(["lung1_z034", "brain2_z008", "brain2_z009", "brain2_z010"])]
    return {"base": STARTER, "corrected": corrected, "scored": scored, "seen": seen}


def new_modality(work: Path, args: argparse.Namespace) -> dict:
    tiles = nuclei_tiles(work)
    picked = {int(i) for i in np.linspace(0, len(tiles) - 1, 5).round()}
    return {"base": train_base(work, args.base_epochs),
            "corrected": [t for t in tiles if t.image_id in picked],
            "scored": [t for t in tiles if t.image_id not in picked], "seen": set()}


def nuclei_tiles(work: Path) -> list[TrainingPair]:
    """The nuclei field cut into TILE x TILE tiles (row-major), written as PNG pairs."""
    folder = SHARED / "stardist_dsb2018_nuclei"
    image = cv2.imread(str(folder / "images" / "dsb2018_img2d.png"), cv2.IMREAD_UNCHANGED)
    mask = cv2.imread(str(folder / "masks" / "dsb2018_img2d.png"), cv2.IMREAD_UNCHANGED)
    (work / "tiles").mkdir(parents=True, exist_ok=True)
    pairs = []
    for index, (row, col) in enumerate(np.ndindex(image.shape[0] // TILE, image.shape[1] // TILE)):
        block = np.s_[row * TILE:(row + 1) * TILE, col * TILE:(col + 1) * TILE]
        paths = [work / "tiles" / f"tile{index:02d}{suffix}.png" for suffix in ("", "_mask")]
        cv2.imwrite(str(paths[0]), image[block])
        cv2.imwrite(str(paths[1]), mask[block])
        pairs.append(TrainingPair(index, f"tile{index:02d}.png", str(paths[0]), str(paths[1])))
    return pairs


def train_base(work: Path, epochs: int) -> Path:
    """The tiny QTSeg trained from scratch on the CT/MRI volumes, validated on lung1."""
    images = sorted(SHARED.glob("pyradiomics_*/images/*.png"))
    pairs = [(str(p), str(p.parent.parent / "masks" / p.name)) for p in images]
    config = resolve_config("cpu-demo", overrides={
        "data": {"train_pairs": [p for p in pairs if "lung1" not in p[0]],
                 "val_pairs": [p for p in pairs if "lung1" in p[0]]},
        "model": TINY, "input_size": TILE, "epochs": epochs, "lr": 3e-3,
        "output_dir": str(work / "base"), "tensorboard": False, "log_every": 1000})
    return Path(train(config).best_checkpoint)


def unseen_volume(work: Path, args: argparse.Namespace) -> dict:
    """lung2 (11 CT slices) after a starter trained without it: 8 corrected, 2 scored."""
    slices = [shared_pair(i, f"{HELD_OUT}_z{z:03d}") for i, z in enumerate(range(15, 26))]
    corrected = len(slices) - UNTOUCHED - block_gap(len(slices))
    return {"base": starter_without(HELD_OUT, args.base_dir, args.starter_epochs),
            "corrected": slices[:corrected], "scored": slices[-UNTOUCHED:], "seen": set()}


def starter_without(volume: str, folder: Path, epochs: int) -> Path:
    """The starter's recipe (examples/train_starter_model.py) with ``volume`` left out.

    Trained once into ``folder`` (reused while its best checkpoint is there).
    """
    best = folder / "run" / "best.safetensors"
    if best.is_file():
        return best
    build_dataset(folder / "data", SHARED, leave_out=frozenset({volume}))
    recipe = argparse.Namespace(work=folder, size=256, epochs=epochs, step_size="60", lr="1e-3",
                                interactive=False, init_from=None)
    command = train_command(recipe)
    print(f"base model without {volume}: qtseg {shlex.join(command)}", flush=True)
    if qtseg(command) != 0:
        raise SystemExit(f"training the base model without {volume} failed")
    return best


def atlas_volume(work: Path, args: argparse.Namespace) -> dict:
    """The issue's check on an MRI the starter never saw (benchmarks/atlas_proxy.py's task):
    the middle ATLAS_BLOCK slices corrected and accepted in a workspace, scored on the slices
    more than block_gap away from that block."""
    pairs = atlas_pairs(args.atlas)
    start, margin = (len(pairs) - ATLAS_BLOCK) // 2, block_gap(len(pairs))
    far = [p for p in pairs if p.image_id < start - margin
           or p.image_id >= start + ATLAS_BLOCK + margin]
    return {"base": STARTER, "corrected": pairs[start:start + ATLAS_BLOCK], "scored": far,
            "seen": set(), "workspace": args.atlas}


def atlas_choosing(work: Path, args: argparse.Namespace) -> dict:
    """The set recipes are chosen on, apart from the check's scored slices: the same protocol
    with the ATLAS_BLOCK slices block_gap beyond the check's far side corrected, scored on the
    check's own block and its gaps (slices the check trains or validates on, or skips)."""
    pairs = atlas_pairs(args.atlas)
    start, margin = (len(pairs) - ATLAS_BLOCK) // 2, block_gap(len(pairs))
    chosen_on = pairs[start - margin:start + ATLAS_BLOCK + margin]
    block = start + ATLAS_BLOCK + 2 * margin
    return {"base": STARTER, "corrected": pairs[block:block + ATLAS_BLOCK],
            "scored": chosen_on, "seen": set(), "workspace": args.atlas}


def atlas_pairs(folder: Path) -> list[TrainingPair]:
    """The slices of an atlas_proxy.py task in name order, as image / mask pairs."""
    names = sorted(p.name for p in (folder / "images").glob("*.png"))
    if not names:
        raise SystemExit(f"{folder}/images holds no PNG slices; build it with "
                         "benchmarks/atlas_proxy.py (see its docstring).")
    return [TrainingPair(i, name, str(folder / "images" / name), str(folder / "masks" / name))
            for i, name in enumerate(names)]


CASES = {"one-volume": one_volume, "atlas-volume": atlas_volume,
         "atlas-choosing": atlas_choosing, "same-domain": same_domain,
         "new-modality": new_modality,
         "unseen-volume": unseen_volume}


def with_seed_and_canvas(job: FinetuneJob, seed: int, input_size: int | None) -> FinetuneJob:
    """``job`` trained with ``seed``, at ``input_size`` instead of the planned canvas when given."""
    settings = replace(job.settings, seed=seed, input_size=input_size or job.settings.input_size)
    job = replace(job, settings=settings)
    job.save()
    return job


def run_workspace_case(name: str, case: dict, recipe: str, work: Path, seed: int = 0,
                       input_size: int | None = None) -> dict:
    """What the user does: a workspace on the volume's slices with the starter, the corrected
    slices saved and accepted, then what `qtseg finetune WORKSPACE` runs (plan, run, gate)."""
    folder = work / f"{name}-{recipe}-seed{seed}"
    shutil.copytree(case["workspace"] / "images", folder)
    with Workspace.open(folder) as ws:
        register_starter(ws)
        ids = {image.name: image.id for image in ws.images()}
        for pair in case["corrected"]:
            truth = cv2.imread(pair.mask, cv2.IMREAD_GRAYSCALE) > 0
            ws.save_correction(ids[pair.name], truth.astype(np.uint8), "benchmark")
            ws.set_status(ids[pair.name], ReviewStatus.ACCEPTED, "benchmark")
        job = plan_finetune(ws, PREVIOUS if recipe == "previous" else None)
        job = with_seed_and_canvas(job, seed, input_size)
        start = time.perf_counter()
        outcome = run_finetune(job)
        seconds = time.perf_counter() - start
        gate = apply_outcome(ws, job, outcome)
    before = score_model(case["base"], tuple(case["scored"]))
    after = score_model(outcome.candidate_path, tuple(case["scored"]))
    print(f"  {job.split_note}\n  gate: {gate.message}", flush=True)
    return {"case": name, "recipe": recipe, "seed": seed, "canvas": job.settings.input_size,
            "train": len(job.train), "val": len(job.val),
            "scored": len(before), "before": np.mean(list(before.values())),
            "after": np.mean(list(after.values())), "outcome": outcome, "seconds": seconds,
            "split": job.split_note, "installed": gate.accepted, "unsure": gate.unsure,
            "per_slice": {p.name: (before[p.image_id], after[p.image_id]) for p in case["scored"]}}


def run_case(name: str, case: dict, recipe: str, work: Path, seed: int = 0,
             input_size: int | None = None) -> dict:
    if "workspace" in case:
        return run_workspace_case(name, case, recipe, work, seed, input_size)
    train_pairs, val_pairs, note = split_by_product(case["corrected"], case["seen"])
    settings = PREVIOUS if recipe == "previous" else finetune_recipe(len(train_pairs))
    job = FinetuneJob(
        workspace=str(work), model_version="base", model_path=str(case["base"]),
        train=train_pairs, val=val_pairs,
        settings=settings.resolved(  # "previous" trained at 256, before the planner's canvas
            256 if recipe == "previous" else planned_input_size(train_pairs, 256)),
        output_dir=str(work / f"{name}-{recipe}-seed{seed}"),
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    job = with_seed_and_canvas(job, seed, input_size)
    start = time.perf_counter()
    outcome = run_finetune(job)
    seconds = time.perf_counter() - start
    before = score_model(case["base"], tuple(case["scored"]))
    after = score_model(outcome.candidate_path, tuple(case["scored"]))
    return {"case": name, "recipe": recipe, "seed": seed, "canvas": job.settings.input_size,
            "train": len(train_pairs), "val": len(val_pairs),
            "scored": len(before), "before": np.mean(list(before.values())),
            "after": np.mean(list(after.values())), "outcome": outcome, "seconds": seconds,
            "split": note, "unsure": judge(outcome.per_image).unsure,
            "per_slice": {p.name: (before[p.image_id], after[p.image_id]) for p in case["scored"]}}


def print_row(row: dict) -> None:
    gate = row["outcome"]
    accepted = row.get("installed", gate.accepted)  # the workspace cases: the gate's own
    kept = "new" if accepted else ("ask" if row.get("unsure") else "old")
    final = row["after"] if accepted else row["before"]
    print(f"{row['case']:>13} {row['recipe']:>8} {row['seed']:>4} {row['canvas']:>4} "
          f"{row['train']:>5} {row['val']:>3} "
          f"{row['scored']:>6} {row['before']:>7.1f} {row['after']:>6.1f} "
          f"{gate.old_dice:>6.1f}->{gate.new_dice:<6.1f} {kept:>4} {final:>6.1f} "
          f"{gate.epochs_run:>4}/{gate.best_epoch:<4} {row['seconds']:>6.0f}", flush=True)


def write_rows(path: Path | None, rows: list[dict]) -> None:
    """The rows as JSON (per-image Dice before / after, the gate's validation figures)."""
    if path is None:
        return
    keys = ("case", "recipe", "seed", "canvas", "train", "val", "scored", "before", "after",
            "seconds", "installed", "per_slice")
    out = [{**{k: row[k] for k in keys if k in row},
            "gate": [row["outcome"].old_dice, row["outcome"].new_dice],
            "epochs": [row["outcome"].epochs_run, row["outcome"].best_epoch]} for row in rows]
    path.write_text(json.dumps(out, indent=1, default=float), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--recipes", nargs="+", choices=("previous", "product"),
                        default=["previous", "product"])
    parser.add_argument("--base-epochs", type=int, default=25, help="new-modality base model")
    parser.add_argument("--starter-epochs", type=int, default=60,
                        help="unseen-volume base model (the starter's recipe, shorter)")
    parser.add_argument("--base-dir", type=Path, default=Path(tempfile.gettempdir()) /
                        f"qtseg-starter-without-{HELD_OUT}",
                        help="where the unseen-volume base model is trained once and reused")
    parser.add_argument("--atlas", type=Path, default=Path("/tmp/atlas/brain"),
                        help="atlas-volume case: a task of benchmarks/atlas_proxy.py")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0],
                        help="training seeds (shuffle, augmentation); one fine-tune per seed")
    parser.add_argument("--input-size", type=int, default=None,
                        help="train at this canvas instead of the planned one (e.g. 256)")
    parser.add_argument("--json", type=Path, default=None,
                        help="write the rows, with per-image scores, to this file")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    print(f"{'case':>13} {'recipe':>8} {'seed':>4} {'px':>4} {'train':>5} {'val':>3} "
          f"{'scored':>6} {'before':>7} {'after':>6} {'gate val old->new':>17} {'kept':>4} "
          f"{'result':>6} {'ep/best':>9} {'time s':>6}   (Dice x100 on images nobody corrected)")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="finetune-gain-") as folder:
        for name in args.cases:
            work = Path(folder) / name
            case = CASES[name](work, args)
            for recipe in args.recipes:
                for seed in args.seeds:
                    rows.append(run_case(name, case, recipe, work, seed, args.input_size))
                    print_row(rows[-1])
                    write_rows(args.json, rows)
    threads = os.environ.get("OMP_NUM_THREADS", "all")
    print(f"\ntotal {time.perf_counter() - start:.0f} s on {sys.platform}, OMP_NUM_THREADS="
          f"{threads}; 'result' is the model the gate kept", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
