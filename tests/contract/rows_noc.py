"""Contract rows for the NoC family: mesh transfers, hops, latency, routers, chip links and
PUMA's data movement (Table 3.4).

Knob boxes keep the injection rate below ``RHO_MAX`` of saturation everywhere inside them
(the loop in the vmap check builds concrete NoCs, which would raise otherwise).
"""

from hwjax import Tech, vdd_range
from hwjax import units as u
from hwjax.components import noc

from .contract_row import ContractRow

MODES = ("exact", "ste", "smooth")
_VDD = vdd_range(32)
_BAD_MODE = ({"mode": "fuzzy"}, "mode")


def _transfer(mode, bits, tiles, concentration, ports, flit_bits, tile_area, vdd):
    network = noc.NoC(
        tiles=tiles,
        concentration=concentration,
        ports=ports,
        flit_bits=flit_bits,
        injection_rate=0.002,  # at most 0.41 of saturation over the knob box
        tile_area=tile_area,
        tech=Tech(32, vdd),
    )
    return noc.transfer(network, bits, mode=mode)


def _latency(mode, injection_rate, tiles, router_cycles, link_cycles, saturation_efficiency):
    network = noc.NoC(
        tiles=tiles,
        injection_rate=injection_rate,
        router_cycles=router_cycles,
        link_cycles=link_cycles,
        saturation_efficiency=saturation_efficiency,
    )
    return {
        "latency_cycles": noc.packet_latency_cycles(network, mode),
        "contention_cycles": noc.contention_cycles(network, mode),
        "saturation_rate": noc.saturation_rate(network, mode),
    }


def _hops(mode, tiles, concentration):
    network = noc.NoC(tiles=tiles, concentration=concentration, injection_rate=0.0)
    return {"hops": noc.average_hops(network, mode), "routers": noc.router_count(network, mode)}


def _flit_hop(mode, ports, flit_bits, concentration, tile_area, wire_activity, vdd):
    network = noc.NoC(
        concentration=concentration,
        ports=ports,
        flit_bits=flit_bits,
        injection_rate=0.0,
        tile_area=tile_area,
        wire_activity=wire_activity,
        tech=Tech(32, vdd),
    )
    return noc.flit_hop(network)


def _network(mode, tiles, concentration, ports, flit_bits):
    network = noc.NoC(
        tiles=tiles, concentration=concentration, ports=ports, flit_bits=flit_bits, injection_rate=0.0
    )
    return noc.network(network, mode)


def _chip_link(mode, bits, bandwidth, links, packet_bits, vdd):
    link = noc.ChipLink(bandwidth=bandwidth, links=links, packet_bits=packet_bits, tech=Tech(32, vdd))
    return noc.chip_link_transfer(link, bits, mode=mode)


def _data_movement_row(level: str) -> ContractRow:
    def fn(mode, level, bits, word_bits, memory_bits, tiles, clock, vdd):
        network = noc.NoC(tiles=tiles, injection_rate=0.002, clock=clock, tech=Tech(32, vdd))
        dm = noc.DataMovement(network, word_bits=word_bits, memory_bits=memory_bits)
        return noc.data_movement(dm, level, bits, mode=mode)

    return ContractRow(
        name=f"noc.data_movement[{level}]",
        fn=fn,
        inputs={
            "level": level,
            "bits": 256.0,
            "word_bits": 16.0,
            "memory_bits": 256.0,
            "tiles": 138.0,
            "clock": 1e9,
            "vdd": 0.9,
        },
        knobs={
            "bits": (0.0, 1e4),
            "word_bits": (8.0, 32.0),
            "memory_bits": (64.0, 1024.0),
            "tiles": (16.0, 256.0),
            "clock": (1e8, 3e9),
            "vdd": _VDD,
        },
        bad_inputs=(
            _BAD_MODE,
            ({"level": "chip"}, "level"),
            ({"bits": -16.0}, "bits"),
            ({"word_bits": 0.0}, "word_bits"),
            ({"tiles": 2.0}, "tiles"),
        ),
        modes=MODES,
    )


ROWS = [
    ContractRow(
        name="noc.transfer",
        fn=_transfer,
        inputs={
            "bits": 300.0,
            "tiles": 138.0,
            "concentration": 4.0,
            "ports": 5.0,
            "flit_bits": 32.0,
            "tile_area": 0.479 * u.mm2,
            "vdd": 0.9,
        },
        knobs={
            "bits": (0.0, 1e5),
            "tiles": (16.0, 256.0),
            "concentration": (1.0, 8.0),
            "ports": (2.0, 16.0),
            "flit_bits": (16.0, 64.0),
            "tile_area": (0.05 * u.mm2, 2.0 * u.mm2),
            "vdd": _VDD,
        },
        bad_inputs=(
            _BAD_MODE,
            ({"bits": -1.0}, "bits"),
            ({"flit_bits": 0.0}, "flit_bits"),
            ({"tiles": 2.0}, "tiles"),
            ({"ports": 1.0}, "ports"),
            ({"concentration": 0.0}, "concentration"),
            ({"tile_area": 0.0}, "tile_area"),
        ),
        modes=MODES,
    ),
    ContractRow(
        name="noc.packet_latency",
        fn=_latency,
        inputs={
            "injection_rate": 0.01,
            "tiles": 64.0,
            "router_cycles": 5.0,
            "link_cycles": 1.0,
            "saturation_efficiency": noc.SATURATION_EFFICIENCY,
        },
        knobs={
            "injection_rate": (0.0, 0.02),  # <= 0.72 of saturation for tiles <= 64
            "tiles": (16.0, 64.0),
            "router_cycles": (1.0, 10.0),
            "link_cycles": (0.0, 3.0),
            "saturation_efficiency": (0.85, 1.0),
        },
        bad_inputs=(
            _BAD_MODE,
            ({"injection_rate": 0.03}, "injection_rate"),  # beyond saturation (0.0278)
            ({"injection_rate": -0.01}, "injection_rate"),
            ({"router_cycles": 0.0}, "router_cycles"),
            ({"saturation_efficiency": 0.0}, "saturation_efficiency"),
        ),
        modes=MODES,
    ),
    ContractRow(
        name="noc.average_hops",
        fn=_hops,
        inputs={"tiles": 138.0, "concentration": 4.0},
        knobs={"tiles": (16.0, 4096.0), "concentration": (1.0, 16.0)},
        bad_inputs=(
            _BAD_MODE,
            ({"tiles": 3.0}, "tiles"),
            ({"concentration": 0.5}, "concentration"),
            ({"tiles": float("inf")}, "tiles"),
        ),
        modes=MODES,
    ),
    ContractRow(
        name="noc.flit_hop",
        fn=_flit_hop,
        inputs={
            "ports": 6.0,
            "flit_bits": 48.0,
            "concentration": 4.0,
            "tile_area": 0.479 * u.mm2,
            "wire_activity": 0.5,
            "vdd": 0.9,
        },
        knobs={
            "ports": (2.0, 16.0),
            "flit_bits": (1.0, 1024.0),
            "concentration": (1.0, 64.0),
            "tile_area": (0.01 * u.mm2, 10.0 * u.mm2),
            "wire_activity": (0.0, 1.0),
            "vdd": _VDD,
        },
        bad_inputs=(
            ({"ports": 17.0}, "ports"),
            ({"flit_bits": 0.0}, "flit_bits"),
            ({"wire_activity": 1.5}, "wire_activity"),
            ({"vdd": 2.0}, "vdd"),
        ),
    ),
    ContractRow(
        name="noc.network",
        fn=_network,
        inputs={"tiles": 138.0, "concentration": 4.0, "ports": 4.0, "flit_bits": 32.0},
        knobs={
            "tiles": (64.0, 1024.0),
            "concentration": (1.0, 8.0),
            "ports": (2.0, 16.0),
            "flit_bits": (8.0, 128.0),
        },
        bad_inputs=(_BAD_MODE, ({"ports": 0.0}, "ports"), ({"tiles": 0.0}, "tiles")),
        modes=MODES,
    ),
    ContractRow(
        name="noc.chip_link_transfer",
        fn=_chip_link,
        inputs={"bits": 3000.0, "bandwidth": 51.2e9, "links": 4.0, "packet_bits": 256.0, "vdd": 0.9},
        knobs={
            "bits": (0.0, 1e7),
            "bandwidth": (1e8, 1e13),
            "links": (1.0, 64.0),
            "packet_bits": (8.0, 1e4),
            "vdd": _VDD,
        },
        bad_inputs=(
            _BAD_MODE,
            ({"bits": -8.0}, "bits"),
            ({"bandwidth": 0.0}, "bandwidth"),
            ({"links": 0.0}, "links"),
            ({"packet_bits": 0.0}, "packet_bits"),
        ),
        modes=MODES,
    ),
    *(_data_movement_row(level) for level in noc.LEVELS),
]
