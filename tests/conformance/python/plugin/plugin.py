"""The Python plugin of the cross-language conformance suite
(tests/conformance/go/crosslang), written against the generated SDK.

$XLANG_MODE selects the plugin:

- full: every hook, `def` and `async def` mixed. Its ExecuteCommand hook
  also takes the suite's control commands (a command starting with "/"):
  `/api <Method> <sync|async>`, `/apierr <case> <sync|async>`,
  `/kv <sync|async>`, `/case <Hook> <case>`, `/report <Hook>`, `/pid`.
  Each hook checks its arguments against the fixture of the expected case
  and answers the fixture's response. The streaming marks (`STREAM_PATH`,
  `STREAM_FILE`) echo their input with every byte XOR `STREAM_KEY`.
- raise: the hooks of $XLANG_HOOKS raise RuntimeError (`def` and
  `async def` alternately).
- slow: the hooks of $XLANG_HOOKS sleep $XLANG_SLEEP seconds (the HTTP hooks
  $XLANG_HTTP_SLEEP, then answer 200 "slow <Hook>").
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

from mattermost_plugin import (
    FileReplacement,
    HookName,
    HTTPRequest,
    Plugin,
    Reject,
    ResponseWriter,
    UploadStream,
    run,
)
from mattermost_plugin.errors import snake_case
from mattermost_plugin.model import (
    Channel,
    ChannelMember,
    CommandArgs,
    CommandResponse,
    Draft,
    EmailNotification,
    EmailNotificationContent,
    FileData,
    FileInfo,
    OnInstallEvent,
    PluginClusterEvent,
    PluginContext,
    Post,
    Preference,
    ProductLimits,
    PushNotification,
    Reaction,
    RemoteCluster,
    ScheduledPost,
    SyncMsg,
    SyncResponse,
    TeamMember,
    User,
    WebSocketRequest,
)
from xlang.api import ApiChecks
from xlang.fixtures import LazyFixtures
from xlang.hooks import HookCases

STREAM_PATH = "/plugins/com.mattermost.crosslang/stream"
"""ServeHTTP: the response body is the request body transformed."""
STREAM_FILE = "crosslang-stream.bin"
"""FileWillBeUploaded: the replacement content is the upload transformed."""
STREAM_KEY = 0x5A
_XOR = bytes(b ^ STREAM_KEY for b in range(256))


def _transform(chunk: bytes) -> bytes:
    return chunk.translate(_XOR)


class FullPlugin(Plugin):
    """Every hook, answered from the fixtures."""

    def __init__(self) -> None:
        self.fixtures = LazyFixtures(os.environ["XLANG_FIXTURES"])
        self.cases = HookCases(self.fixtures)
        self.checks = ApiChecks(self.fixtures, self.api, self.async_api, asyncio.get_running_loop())

    def _a(self, hook: str, *args: object) -> Any:
        return self.cases.answer(hook, *args)

    # --- Control. ---

    def control(self, command: str) -> str:
        words = command.split()
        try:
            match words:
                case ["/api", method, kind]:
                    return _ok(self.checks.call(method, kind))
                case ["/apierr", name, kind]:
                    return _ok(self.checks.check_error(name, kind))
                case ["/kv", kind]:
                    return _ok(self.checks.nil_and_empty(kind))
                case ["/case", hook, case]:
                    return self.cases.expect(hook, case)
                case ["/report", hook]:
                    return self.cases.report(hook)
                case ["/pid"]:
                    return str(os.getpid())
        except Exception as exc:  # noqa: BLE001 - reported to Go
            return f"{command}: {type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        return f"unknown command {command!r}"

    def execute_command(self, c: PluginContext, args: CommandArgs) -> CommandResponse | None:
        if args.command.startswith("/"):
            return CommandResponse(text=self.control(args.command))
        return cast("CommandResponse | None", self._a("ExecuteCommand", c, args))

    # --- Lifecycle. ---

    def on_activate(self) -> None:
        self._a("OnActivate")

    async def on_deactivate(self) -> None:
        self._a("OnDeactivate")

    def on_configuration_change(self) -> None:
        self._a("OnConfigurationChange")

    def on_install(self, c: PluginContext, event: OnInstallEvent) -> None:
        self._a("OnInstall", c, event)

    async def on_send_daily_telemetry(self) -> None:
        self._a("OnSendDailyTelemetry")

    def on_cloud_limits_updated(self, limits: ProductLimits) -> None:
        self._a("OnCloudLimitsUpdated", limits)

    async def configuration_will_be_saved(self, new_cfg: dict[str, Any]) -> dict[str, Any] | None:
        return cast("dict[str, Any] | None", self._a("ConfigurationWillBeSaved", new_cfg))

    def run_data_retention(self, now_time: int, batch_size: int) -> int:
        return cast(int, self._a("RunDataRetention", now_time, batch_size))

    async def generate_support_data(self, c: PluginContext) -> list[FileData]:
        return cast("list[FileData]", self._a("GenerateSupportData", c))

    # --- HTTP. ---

    async def serve_http(self, c: PluginContext, w: ResponseWriter, r: HTTPRequest) -> None:
        if r.path == STREAM_PATH:
            async for chunk in r:
                await w.awrite(_transform(chunk))
            return
        body = await r.aread()
        await w.awrite(self.cases.serve("ServeHTTP", c, w, r, body))

    def serve_metrics(self, c: PluginContext, w: ResponseWriter, r: HTTPRequest) -> None:
        body = r.read()
        w.write(self.cases.serve("ServeMetrics", c, w, r, body))

    # --- Users. ---

    async def user_has_been_created(self, c: PluginContext, user: User) -> None:
        self._a("UserHasBeenCreated", c, user)

    def user_will_log_in(self, c: PluginContext, user: User) -> Reject | None:
        return cast("Reject | None", self._a("UserWillLogIn", c, user))

    def user_has_logged_in(self, c: PluginContext, user: User) -> None:
        self._a("UserHasLoggedIn", c, user)

    async def user_has_been_deactivated(self, c: PluginContext, user: User) -> None:
        self._a("UserHasBeenDeactivated", c, user)

    def on_saml_login(self, c: PluginContext, user: User, assertion: dict[str, Any]) -> None:
        self._a("OnSAMLLogin", c, user, assertion)

    def preferences_have_changed(self, c: PluginContext, preferences: Sequence[Preference]) -> None:
        self._a("PreferencesHaveChanged", c, list(preferences))

    # --- Posts. ---

    def message_will_be_posted(self, c: PluginContext, post: Post) -> Post | Reject | None:
        return cast("Post | Reject | None", self._a("MessageWillBePosted", c, post))

    async def message_will_be_updated(
        self, c: PluginContext, new_post: Post, old_post: Post
    ) -> Post | Reject | None:
        return cast("Post | Reject | None", self._a("MessageWillBeUpdated", c, new_post, old_post))

    def message_has_been_posted(self, c: PluginContext, post: Post) -> None:
        self._a("MessageHasBeenPosted", c, post)

    async def message_has_been_updated(
        self, c: PluginContext, new_post: Post, old_post: Post
    ) -> None:
        self._a("MessageHasBeenUpdated", c, new_post, old_post)

    def messages_will_be_consumed(self, posts: Sequence[Post]) -> list[Post]:
        return cast("list[Post]", self._a("MessagesWillBeConsumed", list(posts)))

    async def messages_will_be_consumed_with_context(
        self, c: PluginContext, posts: Sequence[Post]
    ) -> list[Post]:
        return cast("list[Post]", self._a("MessagesWillBeConsumedWithContext", c, list(posts)))

    def message_has_been_deleted(self, c: PluginContext, post: Post) -> None:
        self._a("MessageHasBeenDeleted", c, post)

    def scheduled_post_will_be_created(
        self, c: PluginContext, scheduled_post: ScheduledPost
    ) -> ScheduledPost | Reject | None:
        return cast(
            "ScheduledPost | Reject | None",
            self._a("ScheduledPostWillBeCreated", c, scheduled_post),
        )

    async def draft_will_be_upserted(self, c: PluginContext, draft: Draft) -> Draft | Reject | None:
        return cast("Draft | Reject | None", self._a("DraftWillBeUpserted", c, draft))

    def reaction_has_been_added(self, c: PluginContext, reaction: Reaction) -> None:
        self._a("ReactionHasBeenAdded", c, reaction)

    async def reaction_has_been_removed(self, c: PluginContext, reaction: Reaction) -> None:
        self._a("ReactionHasBeenRemoved", c, reaction)

    # --- Channels and teams. ---

    def channel_has_been_created(self, c: PluginContext, channel: Channel) -> None:
        self._a("ChannelHasBeenCreated", c, channel)

    async def channel_will_be_archived(self, c: PluginContext, channel: Channel) -> Reject | None:
        return cast("Reject | None", self._a("ChannelWillBeArchived", c, channel))

    def channel_will_be_updated(
        self, c: PluginContext, new_channel: Channel, old_channel: Channel
    ) -> Channel | Reject | None:
        return cast(
            "Channel | Reject | None", self._a("ChannelWillBeUpdated", c, new_channel, old_channel)
        )

    def channel_will_be_restored(self, c: PluginContext, channel: Channel) -> Reject | None:
        return cast("Reject | None", self._a("ChannelWillBeRestored", c, channel))

    def channel_member_will_be_added(
        self, c: PluginContext, channel_member: ChannelMember
    ) -> ChannelMember | Reject | None:
        return cast(
            "ChannelMember | Reject | None",
            self._a("ChannelMemberWillBeAdded", c, channel_member),
        )

    async def user_has_joined_channel(
        self, c: PluginContext, channel_member: ChannelMember, actor: User
    ) -> None:
        self._a("UserHasJoinedChannel", c, channel_member, actor)

    def user_has_left_channel(
        self, c: PluginContext, channel_member: ChannelMember, actor: User
    ) -> None:
        self._a("UserHasLeftChannel", c, channel_member, actor)

    async def team_member_will_be_added(
        self, c: PluginContext, team_member: TeamMember
    ) -> TeamMember | Reject | None:
        return cast("TeamMember | Reject | None", self._a("TeamMemberWillBeAdded", c, team_member))

    def user_has_joined_team(self, c: PluginContext, team_member: TeamMember, actor: User) -> None:
        self._a("UserHasJoinedTeam", c, team_member, actor)

    async def user_has_left_team(
        self, c: PluginContext, team_member: TeamMember, actor: User
    ) -> None:
        self._a("UserHasLeftTeam", c, team_member, actor)

    # --- Files. ---

    def file_will_be_uploaded(
        self, c: PluginContext, info: FileInfo, file: UploadStream
    ) -> FileInfo | FileReplacement | Reject | None:
        if info.name == STREAM_FILE:
            return FileReplacement(content=_transformed(file))
        return cast(
            "FileInfo | FileReplacement | Reject | None", self.cases.upload(c, info, file.read())
        )

    async def file_will_be_downloaded(
        self, c: PluginContext, file_info: FileInfo, user_id: str, download_type: str
    ) -> Reject | None:
        return cast(
            "Reject | None",
            self._a("FileWillBeDownloaded", c, file_info, user_id, download_type),
        )

    # --- Cluster, websockets, notifications, shared channels. ---

    def on_plugin_cluster_event(self, c: PluginContext, ev: PluginClusterEvent) -> None:
        self._a("OnPluginClusterEvent", c, ev)

    async def on_web_socket_connect(self, web_conn_id: str, user_id: str) -> None:
        self._a("OnWebSocketConnect", web_conn_id, user_id)

    def on_web_socket_disconnect(self, web_conn_id: str, user_id: str) -> None:
        self._a("OnWebSocketDisconnect", web_conn_id, user_id)

    def web_socket_message_has_been_posted(
        self, web_conn_id: str, user_id: str, req: WebSocketRequest
    ) -> None:
        self._a("WebSocketMessageHasBeenPosted", web_conn_id, user_id, req)

    async def email_notification_will_be_sent(
        self, email_notification: EmailNotification
    ) -> EmailNotificationContent | Reject | None:
        return cast(
            "EmailNotificationContent | Reject | None",
            self._a("EmailNotificationWillBeSent", email_notification),
        )

    def notification_will_be_pushed(
        self, push_notification: PushNotification, user_id: str
    ) -> PushNotification | Reject | None:
        return cast(
            "PushNotification | Reject | None",
            self._a("NotificationWillBePushed", push_notification, user_id),
        )

    def on_shared_channels_sync_msg(self, msg: SyncMsg, rc: RemoteCluster) -> SyncResponse:
        return cast(SyncResponse, self._a("OnSharedChannelsSyncMsg", msg, rc))

    async def on_shared_channels_ping(self, rc: RemoteCluster) -> bool:
        return cast(bool, self._a("OnSharedChannelsPing", rc))

    def on_shared_channels_attachment_sync_msg(
        self, fi: FileInfo, post: Post, rc: RemoteCluster
    ) -> None:
        self._a("OnSharedChannelsAttachmentSyncMsg", fi, post, rc)

    async def on_shared_channels_profile_image_sync_msg(
        self, user: User, rc: RemoteCluster
    ) -> None:
        self._a("OnSharedChannelsProfileImageSyncMsg", user, rc)


def _ok(problems: list[str]) -> str:
    return "\n".join(problems) if problems else "ok"


def _transformed(upload: UploadStream) -> Iterator[bytes]:
    """The upload, transformed chunk by chunk as it arrives."""
    for chunk in upload:
        yield _transform(chunk)


# --- The failing plugins. ---

_HTTP_HOOKS = {HookName.ServeHTTP.value, HookName.ServeMetrics.value}


def _raising(hook: str, index: int) -> Callable[..., Any]:
    text = f"crosslang: {hook} raised on purpose"

    def handler(self: Plugin, *args: object) -> None:
        raise RuntimeError(text)

    async def async_handler(self: Plugin, *args: object) -> None:
        raise RuntimeError(text)

    return async_handler if index % 2 else handler


def _sleeping(hook: str, sleep: float, http_sleep: float) -> Callable[..., Any]:
    if hook in _HTTP_HOOKS:

        async def http_handler(self: Plugin, c: object, w: ResponseWriter, r: object) -> None:
            await asyncio.sleep(http_sleep)
            await w.awrite(f"slow {hook}".encode())

        return http_handler

    async def handler(self: Plugin, *args: object) -> None:
        await asyncio.sleep(sleep)

    return handler


def failing_plugin(mode: str, hooks: list[str]) -> type[Plugin]:
    """A plugin implementing `hooks`, each raising (mode "raise") or
    sleeping (mode "slow")."""
    namespace: dict[str, Any] = {}
    sleep = float(os.environ.get("XLANG_SLEEP", "3"))
    http_sleep = float(os.environ.get("XLANG_HTTP_SLEEP", "1"))
    for index, hook in enumerate(hooks):
        method = snake_case(HookName(hook).value)
        if getattr(Plugin, method, None) is None:
            raise SystemExit(f"no Plugin method {method} for the hook {hook}")
        if mode == "raise":
            namespace[method] = _raising(hook, index)
        else:
            namespace[method] = _sleeping(hook, sleep, http_sleep)
    return type(f"{mode.title()}Plugin", (Plugin,), namespace)


def _exit_with_parent() -> None:
    """Ends the process when the test binary that started it dies without
    stopping it (killed, or its test timed out), instead of leaving it
    behind."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(3)

    threading.Thread(target=watch, name="crosslang-parent-watch", daemon=True).start()


def main() -> None:
    _exit_with_parent()
    mode = os.environ.get("XLANG_MODE", "full")
    if mode == "full":
        run(FullPlugin)
        return
    hooks = [h for h in os.environ.get("XLANG_HOOKS", "").split(",") if h]
    if mode not in ("raise", "slow"):
        raise SystemExit(f"unknown XLANG_MODE {mode!r}")
    run(failing_plugin(mode, hooks))


if __name__ == "__main__":
    main()
