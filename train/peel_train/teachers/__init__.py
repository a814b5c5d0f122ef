"""Teacher pseudo-labels for real photos, measured on labelled data before they are trusted.

    python -m peel_train.teachers measure --shared ../../shared   # per-teacher scores -> target/peel-teachers/report.json
    python -m peel_train.teachers build --shared ../../shared --out ../target/peel-data   # pickles + build.json
    (both: `measure build`)

Teachers (TFLite, ../shared/teachers): DeepLabV3 VOC-21, DeepLabV3+ ADE20K-32, MOSAIC ADE20K-32 (measured only),
DeepLab Cityscapes-19 (street photos only), MediaPipe selfie (person) and SSD-MobileNet COCO boxes. Every teacher sees
the photo's cover crop (the region `data.cover_crop` keeps) resized to its square input, so its output maps onto the
256x192 training crop. Outputs are cached per teacher and image under target/peel-teachers/cache, so a rerun only
runs what is missing. Evaluation images (CamVid test, COCO128 val2017, voc-val-samples, Middlebury, the Vision Banana
photos) are never labelled for training.

One module per job: running.py runs the teachers (and caches their outputs), labels.py holds the label sets and
merges teacher outputs into one label map, measuring.py scores the teachers and finds the untrusted classes,
building.py writes the training pickles, __main__.py is the command line (and its `check`).
"""

from .building import build, describe, label_photos, load_pets, photo_files, repeat_factors
from .labels import (PET_CLASSES, ade_agreement, ade_classes, cityscapes_classes, instances_from, is_street, lut,
                     merge, merged_classes, merged_label, ssd_names, teachers_merged)
from .measuring import Confusion, match_instances_by_iou, measure, sweep, untrusted_classes
from .running import (CACHE, THRESHOLDS, VOC_TEACHERS, Teacher, cached, confident, crop_box, infer, make_teachers,
                      report_path, square_input)
