//! Legacy import: CSV histories into plaint commands through a mapping file.
