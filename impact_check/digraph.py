"""A directed graph on plain dicts, laid out like ``networkx.DiGraph``, and the few
algorithms the checker runs on it.

The lineage graph of every check is built here, not in networkx: importing networkx and
loading a graph of some 100,000 edges into it cost about a fifth of a warm pre-commit run
(issue 16), and the checker needs only dict-of-dict adjacency, a breadth-first search, a
depth-first post-order, strongly connected components and topological generations.
``to_networkx`` hands a copy to networkx where its writers are wanted (``graph`` exports).

The views answer like networkx's (``nodes(data=True)``, ``nodes[n]``, ``edges[u, v]``,
``succ``/``pred``, ``get_edge_data``), and every iteration follows insertion order like
networkx's, so walks and exports come out the same.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import networkx as nx

N = TypeVar("N", bound=Hashable)
Attrs = dict[str, Any]


class NodeView(Generic[N]):
    """``g.nodes``: iterate the nodes, ``nodes[n]`` for attributes, ``nodes(data=True)``."""

    __slots__ = ("_nodes",)

    def __init__(self, nodes: dict[N, Attrs]) -> None:
        self._nodes = nodes

    def __iter__(self) -> Iterator[N]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, node: object) -> bool:
        return node in self._nodes

    def __getitem__(self, node: N) -> Attrs:
        return self._nodes[node]

    def items(self) -> Iterable[tuple[N, Attrs]]:
        return self._nodes.items()

    def __call__(self, data: bool | str = False) -> Iterable[Any]:
        if data is False:
            return iter(self._nodes)
        if data is True:
            return self._nodes.items()
        return ((n, attrs.get(data)) for n, attrs in self._nodes.items())


class EdgeView(Generic[N]):
    """``g.edges``: iterate ``(u, v)``, ``edges[u, v]`` for attributes, ``edges(data=…)``."""

    __slots__ = ("_succ",)

    def __init__(self, succ: dict[N, dict[N, Attrs]]) -> None:
        self._succ = succ

    def __iter__(self) -> Iterator[tuple[N, N]]:
        return ((u, v) for u, nbrs in self._succ.items() for v in nbrs)

    def __len__(self) -> int:
        return sum(len(nbrs) for nbrs in self._succ.values())

    def __getitem__(self, edge: tuple[N, N]) -> Attrs:
        return self._succ[edge[0]][edge[1]]

    def __call__(self, data: bool | str = False) -> Iterator[Any]:
        if data is False:
            return iter(self)
        if data is True:
            return ((u, v, d) for u, nbrs in self._succ.items() for v, d in nbrs.items())
        key = data
        return ((u, v, d.get(key)) for u, nbrs in self._succ.items() for v, d in nbrs.items())


class DiGraph(Generic[N]):
    """Nodes with attribute dicts; at most one edge ``u -> v``, with an attribute dict
    shared by ``succ[u][v]`` and ``pred[v][u]`` (as in networkx)."""

    __slots__ = ("_node", "pred", "succ")

    def __init__(self) -> None:
        self._node: dict[N, Attrs] = {}
        self.succ: dict[N, dict[N, Attrs]] = {}
        self.pred: dict[N, dict[N, Attrs]] = {}

    @property
    def nodes(self) -> NodeView[N]:
        return NodeView(self._node)

    @property
    def edges(self) -> EdgeView[N]:
        return EdgeView(self.succ)

    def __contains__(self, node: object) -> bool:
        return node in self._node

    def __len__(self) -> int:
        return len(self._node)

    def __iter__(self) -> Iterator[N]:
        return iter(self._node)

    def add_node(self, node: N, **attrs: Any) -> None:
        """Add ``node`` (or update its attributes with ``attrs``)."""
        existing = self._node.get(node)
        if existing is None:
            self._node[node] = attrs
            self.succ[node] = {}
            self.pred[node] = {}
        else:
            existing.update(attrs)

    def add_edge(self, src: N, dst: N, **attrs: Any) -> None:
        """Add ``src -> dst`` (and its ends), or update the edge's attributes."""
        succ = self.succ.get(src)
        if succ is None:
            self.add_node(src)
            succ = self.succ[src]
        if dst not in self._node:
            self.add_node(dst)
        data = succ.get(dst)
        if data is None:
            succ[dst] = self.pred[dst][src] = attrs
        else:
            data.update(attrs)

    def add_edges_from(self, edges: Iterable[tuple[N, N]]) -> None:
        for src, dst in edges:
            self.add_edge(src, dst)

    def has_edge(self, src: N, dst: N) -> bool:
        return dst in self.succ.get(src, ())

    def get_edge_data(self, src: N, dst: N) -> Attrs | None:
        """The edge's attribute dict (itself, not a copy), None when there is no edge."""
        nbrs = self.succ.get(src)
        return None if nbrs is None else nbrs.get(dst)

    def remove_edge(self, src: N, dst: N) -> None:
        del self.succ[src][dst]
        del self.pred[dst][src]

    def remove_node(self, node: N) -> None:
        for dst in self.succ.pop(node):
            del self.pred[dst][node]
        for src in self.pred.pop(node):
            del self.succ[src][node]
        del self._node[node]

    def successors(self, node: N) -> Iterator[N]:
        return iter(self.succ[node])

    def predecessors(self, node: N) -> Iterator[N]:
        return iter(self.pred[node])

    @classmethod
    def from_dicts(cls, nodes: dict[N, Attrs], edges: dict[tuple[N, N], Attrs]) -> DiGraph[N]:
        """A graph of ``nodes`` and ``edges`` (every end among ``nodes``), their attribute
        dicts taken over, not copied."""
        graph: DiGraph[N] = cls()
        graph._node = nodes
        succ, pred = graph.succ, graph.pred
        for node in nodes:
            succ[node] = {}
            pred[node] = {}
        for (src, dst), attrs in edges.items():
            succ[src][dst] = pred[dst][src] = attrs
        return graph

    def to_networkx(self) -> nx.DiGraph[N]:
        """A networkx copy (nodes, then edges, in this graph's order), for its writers."""
        import networkx as nx

        copy: nx.DiGraph[N] = nx.DiGraph()
        copy.add_nodes_from((n, dict(a)) for n, a in self._node.items())
        copy.add_edges_from((u, v, dict(d)) for u, v, d in self.edges(data=True))
        return copy


def bfs_edges(start: N, neighbors: Callable[[N], Iterable[N]], size: int) -> Iterator[tuple[N, N]]:
    """``(parent, child)`` in breadth-first order from ``start`` over ``neighbors`` —
    networkx's ``generic_bfs_edges``: a node's neighbours are asked for when it is
    enqueued and read when it is expanded; ``size`` (the graph's node count) ends the
    search once every node is seen."""
    seen = {start}
    level = [(start, neighbors(start))]
    while level:
        this_level, level = level, []
        for parent, children in this_level:
            for child in children:
                if child not in seen:
                    seen.add(child)
                    level.append((child, neighbors(child)))
                    yield parent, child
            if len(seen) == size:
                return


def dfs_postorder(graph: DiGraph[N]) -> list[N]:
    """Every node after its successors: depth-first from each node in order, successors in
    insertion order (networkx's ``dfs_postorder_nodes`` on the whole graph)."""
    out: list[N] = []
    visited: set[N] = set()
    succ = graph.succ
    for start in graph:
        if start in visited:
            continue
        visited.add(start)
        stack = [(start, iter(succ[start]))]
        while stack:
            parent, children = stack[-1]
            for child in children:
                if child not in visited:
                    visited.add(child)
                    stack.append((child, iter(succ[child])))
                    break
            else:
                stack.pop()
                out.append(parent)
    return out


def strongly_connected_components(graph: DiGraph[N]) -> list[set[N]]:
    """The strongly connected components (Tarjan's algorithm, without recursion)."""
    index: dict[N, int] = {}
    low: dict[N, int] = {}
    on_stack: set[N] = set()
    stack: list[N] = []
    components: list[set[N]] = []
    succ = graph.succ
    for root in graph:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(succ[root]))]
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(succ[child])))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    components.append(component)
    return components


def sink_generations(graph: DiGraph[N]) -> list[set[N]]:
    """Nodes in generations from the sinks up: first the nodes with no successors, then
    those whose successors are all in earlier generations (networkx's
    ``topological_generations`` of the reversed graph). The graph must be acyclic."""
    remaining = {node: len(nbrs) for node, nbrs in graph.succ.items()}
    current = {node for node, count in remaining.items() if count == 0}
    generations = []
    while current:
        generations.append(current)
        following = set()
        for node in current:
            for parent in graph.pred[node]:
                remaining[parent] -= 1
                if remaining[parent] == 0:
                    following.add(parent)
        current = following
    return generations
