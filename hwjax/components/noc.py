"""Networks-on-chip (concentrated meshes), chip-to-chip links and data movement across PUMA's hierarchy.

**Concentrated mesh** (:class:`NoC`). ``tiles`` terminals share routers ``concentration`` at a
time; the ``ceil(tiles / concentration)`` routers form the most nearly square ``k x k`` mesh
(``k = sqrt(routers)``, relaxed). Under uniform random traffic (Booksim's ``uniform``) with
dimension-order routing the mean router-to-router distance is ``D = 2 (k² - 1) / (3 k)`` links,
so a flit traverses ``H = D + 1`` routers, the number Booksim reports as "Hops average" (3.505
for PUMA's 4x4 configuration, where ``H = 3.5``). A flit also crosses ``H`` router pitches of
wire: ``D`` router-to-router links plus the two tile-to-router links, each half a pitch in a
``2 x 2`` concentration block.

* **Router energy** per flit traversal is the router's full-load power divided by its flit rate,
  ``P_dyn / (ports f)``: Orion (which PUMA used, dissertation section 3.7.1) reports power at a
  given load, and PUMA's table (figures.md 1.9: 4 ports 16.13 mW, 8 ports 51.48 mW at 1 GHz,
  32-bit flits, 32 nm) reads as full load: it gives 0.126 and 0.201 pJ/bit per router, in line
  with ISAAC's 8-port Orion router (42 mW, figures.md 2.1: 0.164 pJ/bit at 1 GHz).
  Ports are a continuous knob: dynamic power, leakage and area follow Orion's structure, a part
  linear in ``ports x flit width`` (input buffers, arbiters) and a part quadratic in it (the
  matrix crossbar), ``a P w + b (P w)²`` with ``w = flit_bits / 32``, whose two coefficients go
  exactly through the 4- and 8-port rows.
* **Link energy** per bit and pitch is ``activity x C' x pitch x vdd² / 2`` (``½ C V²`` per
  transition, a transition on half the bits of random data), with ``C'`` = 0.2 fF/um, the wire
  capacitance per length of intermediate and global wires, nearly independent of the node (Ho,
  Mai and Horowitz, "The Future of Wires", Proc. IEEE 89(4), 2001). The router pitch is
  ``sqrt(concentration x tile_area)``. PUMA's own NoC figure (Table 3.5) holds routers only.
* **Latency** in cycles is ``H t_router + (H + 1) t_link - 1 + flits + W``: the head flit's
  pipeline through ``H`` routers and ``H + 1`` channels, the flits serialized one per cycle, and
  queueing ``W``. ``t_router = 5`` and ``t_link = 1`` come from PUMA's Booksim run
  (``booksim2_configs/output.txt`` in the PUMA simulator): its minimum packet latency, 14 cycles
  for an 8-flit packet through one router, fixes ``t_router`` given Booksim's 1-cycle channels;
  the zero-load latency 29 of the 4x4 mesh (figures.md 1.9) then follows without fitting.
* **Contention**: ``W = kappa H (L / 2) rho / (1 - rho)`` cycles, an M/D/1 wait (``rho S / 2 (1 -
  rho)`` for a deterministic service time ``S = L``, the packet's flits) at each router, with
  ``rho = injection_rate / saturation_rate``. The saturation rate is ``eta`` times the ideal
  bisection bound of a ``k``-ary 2-mesh under uniform traffic, ``4 / k`` flits per cycle per
  router (Dally and Towles, Principles and Practices of Interconnection Networks, section 3.3),
  i.e. ``4 eta / (k c L)`` packets per cycle per tile. ``eta = 0.889`` and ``kappa = 0.686`` are
  least-squares fits (in log latency) to PUMA's latency vs injection-rate table (figures.md
  1.9), which they reproduce within 1.3% from 0.001 up to the table's edge 0.025 (``rho = 0.9``).
  Concrete injection rates at or beyond ``RHO_MAX = 0.99`` of saturation raise; traced ones are
  clamped there (zero gradient beyond), so the latency stays finite.

**Chip-to-chip link** (:class:`ChipLink`): HyperTransport as in ISAAC and PUMA (figures.md 1.9,
2.3): 4 links of 6.4 GB/s, 10.4 W and 22.88 mm² in all, 32-byte packets (5 ns each). The power is
static (SerDes and PHY run whether or not data flows: figures.md 2.4 reads it as 406 pJ per byte
at full use), scaled per link with the line rate (a fixed PHY energy per bit); area and static
power stay at their 65 nm values on every node, as ISAAC and PUMA carry them unscaled into 32 nm
chips (I/O is pad- and PHY-bound). The dynamic framing energy, 26 pJ per 128 bits at 65 nm
(Accelergy's ``isaac_chip2chip_link.csv``, figures.md 2.4), scales with the node.

**Data movement across PUMA's hierarchy** (:class:`DataMovement`, dissertation Table 3.4).
Each level moves 16-bit words between the memories that the ISA names, and each access costs its
dynamic energy (``pow_dyn x 1 ns``, as the PUMA simulator's ``hw_stats.py`` charges it) plus the
unit's leakage over its access latency (PUMA power-gates idle units), from the simulator's
per-access constants (figures.md 1.7, 1.8; 32 nm, 0.9 V):

* intra-core *copy*: a register-file read and a register-file write (1 KB, Table 3.5);
* intra-tile *store + load* (core to core through the shared memory): on each side a
  register-file access and a share of one 256-bit eDRAM access, its bus transfer, controller
  and attribute (count) buffer access;
* intra-node *send + receive* (tile to tile): an eDRAM read with its controller and attribute
  access, the flits' traversal of ``H`` routers and pitches of the 138-tile node's mesh, a
  receive-buffer write and read, and the eDRAM write.

Wide accesses are shared by the words of a 256-bit vector (PUMA's eDRAM row, receive-buffer
entry and 8-flit packet hold 16 words), so per word the model gives 0.954, 2.93 and 17.0 pJ
against Table 3.4's 0.954, 3.009 and 18.045 pJ.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hwjax import relax, validate
from hwjax import units as u
from hwjax._pytree import Knob, pytree_dataclass
from hwjax.cost import Cost
from hwjax.tech import DEFAULT_TECH, Tech, check_tech, scale_area, scale_energy, scale_power

# The PUMA simulator's and ISAAC's numbers (figures.md 1 and 2) are at DEFAULT_TECH: 32 nm, 0.9 V.
#: Node of the HyperTransport model (Accelergy ``isaac_chip2chip_link.csv``: 65 nm).
HT_TECH = Tech(65, 1.1)

# figures.md 1.9: PUMA router (Orion 3.0), 32-bit flits, 1 GHz, 32 nm; rows for 4 and 8 ports.
_TABLE_PORTS = (4.0, 8.0)
_ROUTER_DYNAMIC_POWER = (16.13 * u.mW, 51.48 * u.mW)
_ROUTER_LEAKAGE = (0.41 * u.mW, 1.04 * u.mW)
_ROUTER_AREA = (0.047 * u.mm2, 0.116 * u.mm2)
_TABLE_FLIT_BITS = 32.0
_TABLE_CLOCK = 1 * u.GHz  # figures.md 1: cycle_time = 1 ns

#: Intermediate/global wire capacitance per length, F/m (0.2 fF/um; Ho, Mai, Horowitz 2001).
WIRE_CAPACITANCE = 0.2 * u.fF / u.um
#: Least-squares fits to figures.md 1.9's latency table (see the module docstring).
SATURATION_EFFICIENCY = 0.889
CONTENTION_SCALE = 0.686
#: Largest load, as a fraction of saturation, that the contention curve accepts.
RHO_MAX = 0.99

# PUMA node: 138 tiles (dissertation section 3.4.2 and Table 3.5) of 0.479 mm² (Table 3.5).
PUMA_NODE_TILES = 138.0
PUMA_TILE_AREA = 0.479 * u.mm2

# figures.md 1.9 / 2.3: HyperTransport, 4 links of 6.4 GB/s, 10.4 W and 22.88 mm² in all.
HT_LINKS = 4.0
HT_BANDWIDTH = 6.4e9 * u.byte  # bit/s per link
HT_STATIC_POWER = 10.4 * u.W / HT_LINKS  # per link at HT_BANDWIDTH
HT_AREA = 22.88 * u.mm2 / HT_LINKS  # per link
HT_PACKET_BITS = 16 * 2 * u.byte  # figures.md 1.9: 1 packet = 16 x 2 B
HT_ENERGY_PER_BIT = 26 * u.pJ / 128  # figures.md 2.4 (Accelergy), 65 nm

LEVELS = ("core", "tile", "node")


def _port_law(at_4: float, at_8: float) -> tuple[float, float]:
    """``(a, b)`` with ``a P + b P² `` equal to the table rows at ``P`` = 4 and 8 ports."""
    (p4, p8) = _TABLE_PORTS
    quadratic = (at_8 - at_4 * p8 / p4) / (p8**2 - p8 * p4)
    linear = (at_4 - quadratic * p4**2) / p4
    return linear, quadratic


_DYNAMIC_LAW = _port_law(*_ROUTER_DYNAMIC_POWER)
_LEAKAGE_LAW = _port_law(*_ROUTER_LEAKAGE)
_AREA_LAW = _port_law(*_ROUTER_AREA)


def _router_law(law: tuple[float, float], ports, flit_bits):
    """``a P w + b (P w)²`` with ``w = flit_bits / 32``: buffers linear, crossbar quadratic."""
    width = ports * flit_bits / _TABLE_FLIT_BITS
    return law[0] * width + law[1] * width**2


@pytree_dataclass
class NoC:
    """A concentrated-mesh network on chip (a pytree; every field but ``tech`` is a knob).

    Attributes:
        tiles: terminals on the network (relaxed count, [1, 1e6]; >= ``concentration``).
        concentration: tiles per router ([1, 64]; PUMA and ISAAC use 4).
        ports: router ports ([2, 16], continuous; see the module docstring).
        flit_bits: flit (and link) width, bits ([1, 1024]).
        packet_bits: payload of the packets that load the network, bits ([1, 1e6]; PUMA:
            16 words of 16 bits, 8 flits).
        injection_rate: offered load, packets per cycle per tile (>= 0 and below ``RHO_MAX``
            times :func:`saturation_rate`; PUMA's default 0.005).
        clock: router clock, Hz ([1e6, 1e11]); a link moves one flit per cycle.
        tile_area: area of one tile, m² ((0, 1e-3]); sets the link length.
        router_cycles: router pipeline delay, cycles ([1, 100]).
        link_cycles: link traversal delay, cycles ([0, 100]).
        wire_capacitance: wire capacitance per length, F/m ((0, 1e-9]).
        wire_activity: fraction of wires that switch per flit ([0, 1]; 0.5 for random data).
        saturation_efficiency: saturation rate over the ideal bisection bound ((0, 1]).
        tech: technology node and supply (nested pytree; ``vdd`` is a knob).
    """

    tiles: Knob = PUMA_NODE_TILES
    concentration: Knob = 4.0
    ports: Knob = 4.0
    flit_bits: Knob = 32.0
    packet_bits: Knob = 256.0
    injection_rate: Knob = 0.005
    clock: Knob = _TABLE_CLOCK
    tile_area: Knob = PUMA_TILE_AREA
    router_cycles: Knob = 5.0
    link_cycles: Knob = 1.0
    wire_capacitance: Knob = WIRE_CAPACITANCE
    wire_activity: Knob = 0.5
    saturation_efficiency: Knob = SATURATION_EFFICIENCY
    tech: Tech = DEFAULT_TECH

    def __post_init__(self):
        check_tech(self.tech)
        checks = {
            "tiles": dict(low=1.0, high=1e6),
            "concentration": dict(low=1.0, high=64.0),
            "ports": dict(low=2.0, high=16.0),
            "flit_bits": dict(low=1.0, high=1024.0, unit="bit"),
            "packet_bits": dict(low=1.0, high=1e6, unit="bit"),
            "injection_rate": dict(low=0.0, unit="packets/cycle/tile"),
            "clock": dict(low=1e6, high=1e11, unit="Hz"),
            "tile_area": dict(low=0.0, high=1e-3, low_open=True, unit="m2"),
            "router_cycles": dict(low=1.0, high=100.0),
            "link_cycles": dict(low=0.0, high=100.0),
            "wire_capacitance": dict(low=0.0, high=1e-9, low_open=True, unit="F/m"),
            "wire_activity": dict(low=0.0, high=1.0),
            "saturation_efficiency": dict(low=0.0, high=1.0, low_open=True),
        }
        validate.check_fields(self, checks)
        self._check_mesh()

    def _check_mesh(self) -> None:
        """Cross-field checks, on concrete values only (traced ones are clamped where used)."""
        if validate.is_traced((self.tiles, self.concentration)):
            return
        tiles, concentration = np.asarray(self.tiles), np.asarray(self.concentration)
        if np.any(tiles < concentration):
            raise ValueError(
                f"tiles={tiles} is below concentration={concentration}; a router needs at least "
                "`concentration` tiles (allowed range: tiles >= concentration)"
            )
        if not validate.is_traced(self):
            self._check_load()

    def _check_load(self) -> None:
        # Concrete fields stay concrete under an outer jit only if evaluated eagerly here.
        with jax.ensure_compile_time_eval():
            saturation = np.asarray(saturation_rate(self, mode="exact"))
        rate = np.asarray(self.injection_rate)
        if np.any(rate >= RHO_MAX * saturation):
            lowest = float(np.min(saturation))
            raise ValueError(
                f"injection_rate={float(np.max(rate)):g} packets/cycle/tile is outside the allowed range "
                f"[0, {RHO_MAX * lowest:g}) (below {RHO_MAX:g} x the mesh's saturation rate {lowest:g})"
            )


def router_count(noc: NoC, mode: str = "ste"):
    """Routers in the mesh, ``ceil(tiles / concentration)`` (relaxed with ``mode``), >= 1."""
    routers = relax.ceil(jnp.asarray(noc.tiles) / noc.concentration, mode=mode)
    return jnp.maximum(routers, 1.0)  # only binds below the valid range tiles >= concentration


def mesh_side(noc: NoC, mode: str = "ste"):
    """Side ``k = sqrt(routers)`` of the most nearly square mesh, routers (relaxed)."""
    return jnp.sqrt(router_count(noc, mode))


def average_hops(noc: NoC, mode: str = "ste"):
    """Mean routers a flit traverses under uniform random traffic, ``2 (k² - 1) / (3 k) + 1``.

    The first term is the mean Manhattan distance between two routers of a ``k x k`` mesh
    (source and destination drawn independently); Booksim's "Hops average" counts the same.

    Returns:
        Array shaped like the broadcast knobs, routers (dimensionless, >= 1).
    """
    k = mesh_side(noc, mode)
    return 2.0 * (k - 1.0 / k) / 3.0 + 1.0


def flits_per_packet(noc: NoC, mode: str = "ste"):
    """Flits per packet, ``ceil(packet_bits / flit_bits)`` (relaxed with ``mode``)."""
    return relax.ceil(jnp.asarray(noc.packet_bits) / noc.flit_bits, mode=mode)


def saturation_rate(noc: NoC, mode: str = "ste"):
    """Injection rate at which the mesh saturates, packets per cycle per tile.

    ``eta x 4 / (k c L)``: the ideal uniform-traffic bisection bound ``4 / k`` flits per cycle
    per router, shared by ``c`` tiles and divided into packets of ``L`` flits.
    """
    ideal = 4.0 / (mesh_side(noc, mode) * noc.concentration * flits_per_packet(noc, mode))
    return noc.saturation_efficiency * ideal


def load(noc: NoC, mode: str = "ste"):
    """Offered load ``rho = injection_rate / saturation_rate``, clamped to ``RHO_MAX`` (traced)."""
    return jnp.minimum(noc.injection_rate / saturation_rate(noc, mode), RHO_MAX)


def contention_cycles(noc: NoC, mode: str = "ste"):
    """Mean queueing delay of a packet, ``kappa H (L / 2) rho / (1 - rho)`` cycles.

    An M/D/1 wait at each of the ``H`` routers of the path, the service time being the packet's
    ``L`` flits; finite up to ``rho = RHO_MAX``.
    """
    rho = load(noc, mode)
    per_router = 0.5 * flits_per_packet(noc, mode) * rho / (1.0 - rho)
    return CONTENTION_SCALE * average_hops(noc, mode) * per_router


def _head_cycles(noc: NoC, hops):
    """Cycles until the head flit arrives, less its own serialization cycle."""
    return hops * noc.router_cycles + (hops + 1.0) * noc.link_cycles - 1.0


def packet_latency_cycles(noc: NoC, mode: str = "ste"):
    """Mean latency of one packet at the network's injection rate, cycles (figures.md 1.9).

    Zero-load pipeline and serialization plus :func:`contention_cycles`.
    """
    hops = average_hops(noc, mode)
    return _head_cycles(noc, hops) + flits_per_packet(noc, mode) + contention_cycles(noc, mode)


def router_energy(noc: NoC):
    """Dynamic energy of one flit through one router, J: full-load power over the flit rate."""
    power = _router_law(_DYNAMIC_LAW, noc.ports, noc.flit_bits)
    return scale_energy(1.0, DEFAULT_TECH, noc.tech) * power / (noc.ports * _TABLE_CLOCK)


def router_leakage(noc: NoC):
    """Leakage power of one router, W."""
    return scale_power(1.0, DEFAULT_TECH, noc.tech) * _router_law(_LEAKAGE_LAW, noc.ports, noc.flit_bits)


def router_area(noc: NoC):
    """Area of one router, m² (links are routed over logic and take none)."""
    return scale_area(1.0, DEFAULT_TECH, noc.tech) * _router_law(_AREA_LAW, noc.ports, noc.flit_bits)


def router_pitch(noc: NoC):
    """Distance between neighbouring routers, ``sqrt(concentration x tile_area)``, m."""
    return jnp.sqrt(noc.concentration * noc.tile_area)


def link_energy(noc: NoC):
    """Dynamic energy of one flit over one router pitch of wire, J.

    ``flit_bits x activity x ½ C' pitch vdd²``.
    """
    per_bit = 0.5 * noc.wire_activity * noc.wire_capacitance * router_pitch(noc) * noc.tech.vdd**2
    return noc.flit_bits * per_bit


def flit_hop(noc: NoC) -> Cost:
    """One flit through one router and one pitch of link.

    Returns:
        Cost: energy (J) of the router traversal and the wire, latency (s) of the router
        pipeline and link, area (m²) and leakage (W) of one router.
    """
    latency = (noc.router_cycles + noc.link_cycles) / noc.clock
    energy = router_energy(noc) + link_energy(noc)
    return Cost(energy, latency, router_area(noc), router_leakage(noc))


def _check_bits(bits):
    return validate.check_nonnegative("bits", bits, unit="bit")


def _flits_and_hops(noc: NoC, bits, mode: str):
    """(flits of ``bits``, routers each flit traverses), relaxed."""
    return relax.ceil(_check_bits(bits) / noc.flit_bits, mode=mode), average_hops(noc, mode)


def transfer(noc: NoC, bits, mode: str = "ste") -> Cost:
    """Move ``bits`` from one tile to another across the mesh (uniform-random destination).

    ``flits = ceil(bits / flit_bits)`` (relaxed with ``mode``) each traverse
    :func:`average_hops` routers and as many router pitches of wire; the latency adds the head
    flit's pipeline, the flits' serialization and the contention at the injection rate.

    Args:
        noc: the network.
        bits: payload, bits (>= 0; any shape).
        mode: relaxation of the flit and router counts (``"exact"``, ``"ste"``, ``"smooth"``).

    Returns:
        Cost shaped like ``bits`` and the knobs: dynamic energy (J) and latency (s) of the
        transfer; area (m²) and leakage (W) of all the network's routers.
    """
    flits, hops = _flits_and_hops(noc, bits, mode)
    hop = flit_hop(noc)
    cycles = _head_cycles(noc, hops) + flits + contention_cycles(noc, mode)
    routers = router_count(noc, mode)
    return Cost(flits * hops * hop.energy, cycles / noc.clock, routers * hop.area, routers * hop.leakage)


def network(noc: NoC, mode: str = "ste") -> Cost:
    """The whole network for one cycle at full load (every router port busy).

    ``cost.power`` is the network's peak power (dissertation Table 3.5's "On-chip Network"
    row), ``cost.area`` its router area.

    Returns:
        Cost: dynamic energy of one full-load cycle (J), one cycle (s), area (m²), leakage (W).
    """
    routers = router_count(noc, mode)
    per_cycle = noc.ports * router_energy(noc)  # every port moves a flit
    return Cost(
        routers * per_cycle, 1.0 / noc.clock, routers * router_area(noc), routers * router_leakage(noc)
    )


@pytree_dataclass
class ChipLink:
    """Chip-to-chip links (HyperTransport by default; a pytree of knobs).

    Attributes:
        bandwidth: line rate of one link, bit/s ([1e8, 1e13]; HT 6.4 GB/s).
        links: links a transfer is striped over ([1, 64]; PUMA and ISAAC: 4).
        packet_bits: packet size, bits ([1, 1e6]; PUMA: 32 bytes).
        tech: technology of the chip (scales only the dynamic framing energy).
    """

    bandwidth: Knob = HT_BANDWIDTH
    links: Knob = HT_LINKS
    packet_bits: Knob = HT_PACKET_BITS
    tech: Tech = DEFAULT_TECH

    def __post_init__(self):
        check_tech(self.tech)
        checks = {
            "bandwidth": dict(low=1e8, high=1e13, unit="bit/s"),
            "links": dict(low=1.0, high=64.0),
            "packet_bits": dict(low=1.0, high=1e6, unit="bit"),
        }
        validate.check_fields(self, checks)


def chip_link_transfer(link: ChipLink, bits, mode: str = "ste") -> Cost:
    """Move ``bits`` between chips over ``link.links`` links in parallel.

    ``ceil(bits / packet_bits)`` packets go out ``links`` at a time, each taking
    ``packet_bits / bandwidth`` (5 ns for HT's 32-byte packets).

    Args:
        link: the links.
        bits: payload, bits (>= 0; any shape).
        mode: relaxation of the packet and round counts.

    Returns:
        Cost: dynamic framing energy (J), latency (s), area (m²) and static power (W) of all
        the links (multiply the static power by the latency for the energy it costs).
    """
    bits = _check_bits(bits)
    packets = relax.ceil(bits / link.packet_bits, mode=mode)
    rounds = relax.ceil(packets / link.links, mode=mode)
    latency = rounds * link.packet_bits / link.bandwidth
    energy = bits * scale_energy(HT_ENERGY_PER_BIT, HT_TECH, link.tech)
    static = link.links * HT_STATIC_POWER * link.bandwidth / HT_BANDWIDTH
    return Cost(energy, latency, link.links * HT_AREA, static)


class _Access(NamedTuple):
    """One access of a PUMA memory or bus: ``pow_dyn x 1 ns``, leakage power, latency in cycles."""

    dynamic_energy: float
    leakage_power: float
    cycles: float


# figures.md 1.7: core data memory (register file), 1024 B row (Table 3.5: 1 KB), 1 cycle.
_REGISTER_FILE = _Access(0.33 * u.pJ, 0.147 * u.mW, 1.0)
# figures.md 1.8: 64 KB eDRAM, 256-bit access, 2 cycles, charged 8.6 pJ by hw_stats.py.
_EDRAM = _Access(8.6 * u.pJ, 0.46 * u.mW, 2.0)
# figures.md 1.8: eDRAM-to-core bus (384 wires), eDRAM controller, attribute (counter) buffer.
_BUS = _Access(3.0 * u.pJ, 0.5 * u.mW, 1.0)
_EDRAM_CONTROLLER = _Access(0.475 * u.pJ, 0.05 * u.mW, 1.0)
_ATTRIBUTE_BUFFER = _Access(0.65 / 2 * math.sqrt(8) * u.pJ, 0.33 / 2 * math.sqrt(8) * u.mW, math.sqrt(8))
# figures.md 1.8: receive buffer (64 entries of 16 words), 2 cycles.
_RECEIVE_BUFFER = _Access(8.96 * u.pJ, 0.18 * u.mW, 2.0)


@pytree_dataclass
class DataMovement:
    """Data movement inside a PUMA-style node (a pytree of knobs).

    Attributes:
        noc: the node's network (its ``tech`` and ``clock`` also set the memories').
        word_bits: data word, bits ([1, 64]; PUMA: 16).
        memory_bits: width of a shared-memory row, bus transfer and receive-buffer entry,
            bits ([1, 4096]; PUMA: 256).
    """

    noc: NoC = NoC()
    word_bits: Knob = 16.0
    memory_bits: Knob = 256.0

    def __post_init__(self):
        if not isinstance(self.noc, NoC):
            raise ValueError(f"noc must be a NoC, got {type(self.noc).__name__}")
        word = validate.check_range("word_bits", self.word_bits, 1.0, 64.0, unit="bit")
        row = validate.check_range("memory_bits", self.memory_bits, 1.0, 4096.0, unit="bit")
        object.__setattr__(self, "word_bits", word)
        object.__setattr__(self, "memory_bits", row)


def _access_energy(access: _Access, noc: NoC):
    """Dynamic energy plus leakage over the access's own cycles, J, at ``noc.tech``."""
    dynamic = scale_energy(access.dynamic_energy, DEFAULT_TECH, noc.tech)
    leakage = scale_power(access.leakage_power, DEFAULT_TECH, noc.tech)
    return dynamic + leakage * access.cycles / noc.clock


def _counts(dm: DataMovement, bits, mode: str):
    """(words, memory rows) that ``bits`` occupy (relaxed)."""
    bits = _check_bits(bits)
    return relax.ceil(bits / dm.word_bits, mode=mode), relax.ceil(bits / dm.memory_bits, mode=mode)


def _shared_memory_access(noc: NoC):
    """One eDRAM row access with its controller and attribute-buffer access, J."""
    return sum(_access_energy(a, noc) for a in (_EDRAM, _EDRAM_CONTROLLER, _ATTRIBUTE_BUFFER))


def copy_in_core(dm: DataMovement, bits, mode: str = "ste") -> Cost:
    """Intra-core *copy* of ``bits``: one register-file read and one write per word.

    Returns:
        Cost: energy (J, dynamic plus the units' leakage while active) and latency (s, one word
        per cycle, reads and writes pipelined); area and leakage 0 (they belong to the memories).
    """
    words, _ = _counts(dm, bits, mode)
    energy = words * 2.0 * _access_energy(_REGISTER_FILE, dm.noc)
    return Cost(energy, words * _REGISTER_FILE.cycles / dm.noc.clock, 0.0)


def load_store_in_tile(dm: DataMovement, bits, mode: str = "ste") -> Cost:
    """Intra-tile movement of ``bits`` from one core to another: a *store* then a *load*.

    Each side accesses the register file once per word and, once per memory row, the eDRAM
    (with controller and attribute buffer) and the eDRAM-to-core bus.

    Returns:
        Cost: energy (J, dynamic plus the units' leakage while active), latency (s, eDRAM and
        bus cycles per row, both sides); area and leakage 0.
    """
    words, rows = _counts(dm, bits, mode)
    per_row = _shared_memory_access(dm.noc) + _access_energy(_BUS, dm.noc)
    energy = 2.0 * (words * _access_energy(_REGISTER_FILE, dm.noc) + rows * per_row)
    cycles = 2.0 * rows * (_EDRAM.cycles + _BUS.cycles)
    return Cost(energy, cycles / dm.noc.clock, 0.0)


def send_receive_in_node(dm: DataMovement, bits, mode: str = "ste") -> Cost:
    """Intra-node movement of ``bits`` from one tile's shared memory to another's.

    *send*: eDRAM read, then :func:`transfer` across the mesh; *receive*: receive-buffer write
    and read, eDRAM write. Routers are charged their leakage for the cycles their ports carry
    the flits, as the memories are.

    Returns:
        Cost: energy (J, dynamic plus the units' leakage while active), latency (s); area and
        leakage 0 (see :func:`transfer` for the network's).
    """
    noc = dm.noc
    _, rows = _counts(dm, bits, mode)
    moved = transfer(noc, bits, mode)
    flits, hops = _flits_and_hops(noc, bits, mode)
    router_active = flits * hops * router_leakage(noc) / (noc.ports * noc.clock)
    endpoints = rows * (2.0 * _shared_memory_access(noc) + 2.0 * _access_energy(_RECEIVE_BUFFER, noc))
    endpoint_cycles = rows * (2.0 * _EDRAM.cycles + 2.0 * _RECEIVE_BUFFER.cycles)
    return Cost(endpoints + moved.energy + router_active, endpoint_cycles / noc.clock + moved.latency, 0.0)


_LEVEL_FUNCTIONS = {"core": copy_in_core, "tile": load_store_in_tile, "node": send_receive_in_node}


def data_movement(dm: DataMovement, level: str, bits, mode: str = "ste") -> Cost:
    """Move ``bits`` within a core, a tile or a node (dissertation Table 3.4).

    Args:
        dm: the node's memories and network.
        level: ``"core"`` (copy), ``"tile"`` (store + load) or ``"node"`` (send + receive);
            static, chosen in plain Python.
        bits: payload, bits (>= 0; any shape).
        mode: relaxation of word, row and flit counts.

    Returns:
        Cost of the movement (see :func:`copy_in_core`, :func:`load_store_in_tile`,
        :func:`send_receive_in_node`).
    """
    validate.check_choice("level", level, LEVELS)
    return _LEVEL_FUNCTIONS[level](dm, bits, mode)
