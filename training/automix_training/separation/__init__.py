"""Singing-voice separation and vocal-activity detection (seeds 003 and 004): MIR-1K data with
augmentation, the U-Net separator, seed 004's feed-forward baseline and VAD CNN, training with
early stopping, BSS Eval on the customary split, and ONNX export for the engine."""
