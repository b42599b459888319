import os

# Keep TensorFlow quiet wherever a test imports it (only symhamil.neural does).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
