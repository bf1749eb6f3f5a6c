"""Modelhub's inference runtime: an Open Inference Protocol (KServe V2) server for ONNX models.

Nothing here imports Django: the runtime is a separate process (`python -m registry.runtime`) that the
portal drives through the V2 repository API and asks about credentials over HTTP.
"""
