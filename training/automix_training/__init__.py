"""Training and export of Vocal Automix's CNN assistant (Li & Lerch, §III-C).

The data comes from `automix dataset` (the engine's own feature code), the models are exported to
ONNX for `engine::analysis::cnn`, and `models/models.json` records what each model was trained on
and how well it does on held-out songs beside the dataset-mean predictor.
"""
