"""Bir Tereze shared kernel: the small generic pieces every service stands on."""
