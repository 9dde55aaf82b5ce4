"""A Footer that rebuilds its keys only when what it shows changes."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

from regtui.tui.textual_compat import (
    FooterKey,
    mark_footer_bindings_ready,
    set_footer_key_enabled,
)

COMPACT_BELOW = 110

# What one footer key shows: key, action, description, key display, tooltip.
Shown = tuple[str, str, str, str, str]


class QuietFooter(Footer):
    """Textual's Footer recomposes (removes and mounts every key, then relayouts the
    screen) on each bindings update: every focus move and `refresh_bindings`. At 100k
    versions that costs tens of ms per keystroke, mostly for an identical footer. This
    one compares what it would show with what it shows: nothing changed, nothing is
    done; keys only hidden, shown or enabled (focus moving between the filter box and
    the table) are toggled in place; anything else recomposes as before."""

    _plan: list[tuple[Shown, bool]] | None = None

    def on_resize(self) -> None:
        # Below 110 columns the keys drop their padding, so all of them still fit at 80.
        self.compact = self.size.width < COMPACT_BELOW

    def bindings_changed(self, screen: Screen[object]) -> None:
        mark_footer_bindings_ready(self)
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._update)

    async def _update(self) -> None:
        if not self.is_attached:
            return
        plan = self._what_is_shown()
        if plan is not None and plan == self._plan:
            return
        if plan is None or self._plan is None or not await self._toggle(plan):
            await self.recompose()
        self._plan = plan

    def _what_is_shown(self) -> list[tuple[Shown, bool]] | None:
        """The keys `Footer.compose` would yield (with enabled flags), or None when it
        would group some (those always recompose)."""
        app = self.app
        by_action: dict[str, tuple[Shown, bool]] = {}
        active = self.screen.active_bindings
        for _node, binding, enabled, tooltip in active.values():
            if not binding.show or binding.action in by_action:
                continue
            if binding.group is not None:
                return None
            shown = (
                binding.key,
                binding.action,
                binding.description,
                app.get_key_display(binding),
                tooltip,
            )
            by_action[binding.action] = (shown, enabled)
        plan = list(by_action.values())
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
            palette = active.get(app.COMMAND_PALETTE_BINDING)
            if palette is not None:
                _node, binding, enabled, _tooltip = palette
                tip = binding.tooltip or binding.description
                key_display = app.get_key_display(binding)
                plan.append(
                    ((binding.key, binding.action, binding.description, key_display, tip), enabled)
                )
        return plan

    async def _toggle(self, plan: list[tuple[Shown, bool]]) -> bool:
        """Show, hide, enable or disable the mounted keys to match `plan`, mounting the
        few that are missing; False if that cannot give the same footer (a new order)."""
        keys = list(self.query_children(FooterKey))
        mounted = {
            (k.key, k.action, k.description, k.key_display, str(k.tooltip or "")): k for k in keys
        }
        wanted = dict(plan)
        if len(wanted) != len(plan) or len(mounted) != len(keys):
            return False
        palette = self.app.COMMAND_PALETTE_BINDING
        if any(shown[0] == palette for shown, _ in plan if shown not in mounted):
            return False  # the palette key is docked apart: leave that to compose
        position = list(mounted)
        order = [position.index(shown) for shown, _ in plan if shown in mounted]
        if order != sorted(order):
            return False
        with self.app.batch_update():
            for shown, key in mounted.items():
                key.display = shown in wanted
                set_footer_key_enabled(key, wanted.get(shown, True))
            # Keys not mounted yet go before the next key of the plan that is.
            for i, (shown, enabled) in enumerate(plan):
                if shown in mounted:
                    continue
                after = [mounted[s] for s, _ in plan[i + 1 :] if s in mounted]
                key_, action, description, key_display, tooltip = shown
                new = FooterKey(
                    key_, key_display, description, action, disabled=not enabled, tooltip=tooltip
                ).data_bind(compact=Footer.compact)
                await self.mount(new, before=after[0] if after else None)
                mounted[shown] = new
        return True
