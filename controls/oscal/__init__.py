"""OSCAL 1.1 documents of the AIMS: the catalogue, the approved SoA as a profile, the AIMS as a
system security plan, and the import of an OSCAL catalogue as a new framework."""
