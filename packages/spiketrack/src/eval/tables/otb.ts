/**
 * OTB-100 (OTB-2015): the 100 sequences with their frame ranges and annotation files.
 *
 * Source of the facts: the sequence table of pytracking's `pytracking/evaluation/otbdataset.py`
 * (github.com/visionml/pytracking). The quirks it records:
 * - sequences that start after frame 1: BlurCar1 (247–988), BlurCar3 (3–359), BlurCar4 (18–397),
 *   David (300–770); their ground truth starts at that frame;
 * - Tiger1 skips its first 5 frames (`initOmit`): frames 6–354, ground-truth rows from the 6th;
 * - two-target sequences that share one image folder: Jogging_1 / Jogging_2 and Skating2_1 /
 *   Skating2_2 (`groundtruth_rect.1.txt` / `.2.txt`), and Human4_2 (only `groundtruth_rect.2.txt`);
 * - Board's frames have 5 digits, KiteSurf's are PNG.
 * Names are pytracking's (`Jogging_1`); the OTB toolkit's `Jogging-1` is accepted as an alias.
 */

/** One OTB sequence. Frame `n` is `<dir>/img/<n, zero-padded to digits>.<ext>`. */
export interface OtbEntry {
  readonly name: string;
  readonly dir: string;
  readonly start: number;
  readonly end: number;
  readonly digits: number;
  readonly ext: string;
  /** The annotation file inside `<dir>/`. */
  readonly anno: string;
  /** Frames skipped at the start (frames and ground-truth rows), pytracking's `initOmit`. */
  readonly initOmit: number;
}

type Row = readonly [name: string, end: number, extra?: Partial<OtbEntry>];

const ROWS: readonly Row[] = [
  ['Basketball', 725],
  ['Biker', 142],
  ['Bird1', 408],
  ['Bird2', 99],
  ['BlurBody', 334],
  ['BlurCar1', 988, { start: 247 }],
  ['BlurCar2', 585],
  ['BlurCar3', 359, { start: 3 }],
  ['BlurCar4', 397, { start: 18 }],
  ['BlurFace', 493],
  ['BlurOwl', 631],
  ['Board', 698, { digits: 5 }],
  ['Bolt', 350],
  ['Bolt2', 293],
  ['Box', 1161],
  ['Boy', 602],
  ['Car1', 1020],
  ['Car2', 913],
  ['Car24', 3059],
  ['Car4', 659],
  ['CarDark', 393],
  ['CarScale', 252],
  ['ClifBar', 472],
  ['Coke', 291],
  ['Couple', 140],
  ['Coupon', 327],
  ['Crossing', 120],
  ['Crowds', 347],
  ['Dancer', 225],
  ['Dancer2', 150],
  ['David', 770, { start: 300 }],
  ['David2', 537],
  ['David3', 252],
  ['Deer', 71],
  ['Diving', 215],
  ['Dog', 127],
  ['Dog1', 1350],
  ['Doll', 3872],
  ['DragonBaby', 113],
  ['Dudek', 1145],
  ['FaceOcc1', 892],
  ['FaceOcc2', 812],
  ['Fish', 476],
  ['FleetFace', 707],
  ['Football', 362],
  ['Football1', 74],
  ['Freeman1', 326],
  ['Freeman3', 460],
  ['Freeman4', 283],
  ['Girl', 500],
  ['Girl2', 1500],
  ['Gym', 767],
  ['Human2', 1128],
  ['Human3', 1698],
  ['Human4_2', 667, { dir: 'Human4', anno: 'groundtruth_rect.2.txt' }],
  ['Human5', 713],
  ['Human6', 792],
  ['Human7', 250],
  ['Human8', 128],
  ['Human9', 305],
  ['Ironman', 166],
  ['Jogging_1', 307, { dir: 'Jogging', anno: 'groundtruth_rect.1.txt' }],
  ['Jogging_2', 307, { dir: 'Jogging', anno: 'groundtruth_rect.2.txt' }],
  ['Jump', 122],
  ['Jumping', 313],
  ['KiteSurf', 84, { ext: 'png' }],
  ['Lemming', 1336],
  ['Liquor', 1741],
  ['Man', 134],
  ['Matrix', 100],
  ['Mhyang', 1490],
  ['MotorRolling', 164],
  ['MountainBike', 228],
  ['Panda', 1000],
  ['RedTeam', 1918],
  ['Rubik', 1997],
  ['Shaking', 365],
  ['Singer1', 351],
  ['Singer2', 366],
  ['Skater', 160],
  ['Skater2', 435],
  ['Skating1', 400],
  ['Skating2_1', 473, { dir: 'Skating2', anno: 'groundtruth_rect.1.txt' }],
  ['Skating2_2', 473, { dir: 'Skating2', anno: 'groundtruth_rect.2.txt' }],
  ['Skiing', 81],
  ['Soccer', 392],
  ['Subway', 175],
  ['Surfer', 376],
  ['Suv', 945],
  ['Sylvester', 1345],
  ['Tiger1', 354, { initOmit: 5 }],
  ['Tiger2', 365],
  ['Toy', 271],
  ['Trans', 124],
  ['Trellis', 569],
  ['Twinnings', 472],
  ['Vase', 271],
  ['Walking', 412],
  ['Walking2', 500],
  ['Woman', 597],
];

/** The 100 OTB-100 sequences, in pytracking's order. */
export const OTB100_SEQUENCES: readonly OtbEntry[] = ROWS.map(([name, end, extra]) => ({
  name,
  dir: name,
  start: 1,
  end,
  digits: 4,
  ext: 'jpg',
  anno: 'groundtruth_rect.txt',
  initOmit: 0,
  ...extra,
}));
