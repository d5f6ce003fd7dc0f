"""From a source's images to prepared data: the task's manifest and class folders
(organize), the patient-disjoint split rule (split), one decoder (images), the
uint8 cache (cache), and the one call the report makes (dataset.prepare_dataset).
Imports support and sources, never Keras."""
