"""Identity over time: the entity register, the gazetteer, assigning records to entities."""
