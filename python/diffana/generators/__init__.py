# SPDX-License-Identifier: BSD-3-Clause
"""Built-in sample generators: the toy dijet samples and the AGC-like ttbar samples."""
