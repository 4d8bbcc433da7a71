"""Behavioural (accuracy) simulation: the hardware's arithmetic on data.

Bit-sliced MVM with converters, device non-idealities, MLC storage faults and bit-sliced
outer-product updates; every random draw from an explicit PRNG key.
"""
