"""The picture widgets in a tiny harness app: bound reactives, animation, messages."""

from __future__ import annotations

from harness import PictureApp
from picture_traces import trace_of

from kubeflow_tui.tui.widgets.ladder_view import LadderView
from kubeflow_tui.tui.widgets.pipeline import PipelineView
from kubeflow_tui.tui.widgets.wire import WireView


def first_link(name, flow, a, b):
    return next(s.index for s in trace_of(name, flow).steps if s.kind == "link" and s.link == (a, b))


class RecordingWire(WireView):
    """Notes where the packet is in every frame Textual paints, and which lines it asks for."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.drawn: list[tuple[int, int] | None] = []
        self.lines: list[int] = []

    def render_lines(self, crop):
        self.drawn.append(self.packet_cell)
        return super().render_lines(crop)

    def render_line(self, y):
        self.lines.append(y)
        return super().render_line(y)


async def test_stepping_onto_a_link_moves_the_packet_over_several_frames():
    link = first_link("clusterip", "pod-other-node", "node-b", "node-a")
    app = PictureApp("wire", "clusterip", "pod-other-node", link - 1)
    app.widget_class = RecordingWire
    async with app.run_test(size=(80, 24)) as pilot:
        wire = app.query_one(RecordingWire)
        await pilot.pause()
        start = wire.packet_cell
        cells = wire.layout_for(wire.content_size.width, 24).path("node-b", "node-a")
        wire.drawn.clear()
        await pilot.press("n")
        assert app.step == link and wire.step == link  # bound to the app's reactive
        for _ in range(1000):
            if not wire.moving:
                break
            await pilot.pause(0.01)
        await pilot.pause()
        assert not wire.moving and wire.progress == 1.0
        frames = [c for c in wire.drawn if c is not None]
        assert frames[-1] == cells[-1] != start
        middle = [c for c in frames if c not in (cells[0], cells[-1])]
        assert len(set(middle)) >= 3 and set(middle) <= set(cells)  # drawn on the way, along the link
        order = [cells.index(c) for c in frames]
        assert order == sorted(order)  # always forward


async def test_stepping_back_or_onto_a_host_step_places_the_packet_at_once():
    link = first_link("clusterip", "pod-other-node", "node-b", "node-a")
    app = PictureApp("wire", "clusterip", "pod-other-node", link + 1)
    async with app.run_test(size=(80, 24)) as pilot:
        wire = app.query_one(WireView)
        await pilot.press("p")
        assert app.step == link and not wire.moving and wire.progress == 1.0
        assert wire.packet_cell == wire.layout_for(wire.content_size.width, 24).anchor["node-a"]


async def test_ladder_view_highlights_the_current_packet_and_jumps_to_a_picked_arrow():
    link = first_link("clusterip", "pod-other-node", "node-b", "node-a")
    app = PictureApp("ladder", "clusterip", "pod-other-node", link)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LadderView)
        await pilot.pause()
        row = view.ladder.rows[view.current_row]
        assert (row.kind, row.host, row.to_host, row.label) == ("arrow", "node-b", "node-a", "SYN")
        view.focus()
        await pilot.press("down")  # selecting an arrow jumps there, no enter needed
        await pilot.pause()
        assert app.selected and app.step == app.selected[-1] == view.ladder.rows[view.current_row].step
        await pilot.press("down", "enter")
        await pilot.pause()
        target = view.ladder.rows[view.current_row]
        assert app.selected and app.step == app.selected[-1] == target.step
        assert (target.kind, target.label, target.host, target.to_host) == ("arrow", "SYN-ACK", "web-1", "node-a")


async def test_clicking_a_hook_posts_its_selection_and_shows_its_chain_walk():
    t = trace_of("clusterip", "pod-other-node")
    fwd = next(s.index for s in t.steps if s.host == "node-b" and s.hook == "FORWARD" and s.kind == "policy")
    app = PictureApp("pipeline", "clusterip", "pod-other-node", fwd)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(PipelineView)
        await pilot.pause()
        # PREROUTING is drawn at column 6 of the picture's second line
        await pilot.click(PipelineView, offset=(8, 1))
        await pilot.pause()
        assert app.selected == [("node-b", "PREROUTING")] and view.selected_hook == "PREROUTING"
        text = view.render().canvas(80, 16).plain()
        assert "PREROUTING on this host, this packet (selected; esc follows the packet)" in text and "▶ DNAT" in text
        view.focus()
        await pilot.press("escape")
        assert view.selected_hook == ""


async def test_clicking_an_arrow_jumps_there():
    app = PictureApp("ladder", "nodeport", "to-other-node", 0)
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(LadderView)
        await pilot.pause()
        pic_row = next(i for i, r in enumerate(view.ladder.rows) if r.kind == "nat" and r.nat == "MASQUERADE")
        line = view.line_of_row(pic_row)
        await pilot.click(LadderView, offset=(10, line))
        await pilot.pause()
        assert app.step == view.ladder.rows[pic_row].step
        assert trace_of("nodeport", "to-other-node").steps[app.step].kind == "masquerade"


async def test_a_frame_of_a_move_repaints_only_the_lines_it_changes():
    """The packet moving one cell along the bus changes a few lines of the picture: Textual
    is asked for those, not for the whole widget (the rest stays as painted)."""
    link = first_link("clusterip", "pod-other-node", "node-b", "node-a")
    app = PictureApp("wire", "clusterip", "pod-other-node", link, progress=0.4)
    app.widget_class = RecordingWire
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        wire = app.query_one(RecordingWire)
        assert wire.step == link and not wire.moving
        before = [wire.render_line(y).text for y in range(wire.size.height)]
        cell = wire.packet_cell
        wire.lines.clear()
        wire.progress = 0.5
        await pilot.pause()
        asked = set(wire.lines)  # the lines Textual repainted for this frame
        after = [wire.render_line(y).text for y in range(len(before))]
        changed = {y for y, (a, b) in enumerate(zip(before, after)) if a != b}
        assert wire.packet_cell != cell and cell[1] in changed
        assert asked == changed and len(asked) < wire.size.height // 2
