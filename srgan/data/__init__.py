"""The data layer: reading and writing photos, the degradation, the training crops, the
demo set, and preparing a data folder from STL10, DIV2K or a photo folder."""
