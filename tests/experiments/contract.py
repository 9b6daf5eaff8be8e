"""The JSON summary contract of issue 5, written out independently of the library."""

#: Keys every ``runs`` entry of an experiment's ``--json`` summary must carry.
RUN_KEYS = {
    "game",
    "params",
    "dynamics",
    "steps",
    "seeds",
    "final_actions",
    "equilibrium",
    "distance_median",
    "distance_p95",
}
