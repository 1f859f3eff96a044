"""常用回复 in the roster: parsed per category with community-wide defaults, validated with the line of each
problem, stored and read back on every backend; the examples give every category its replies."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridcore.community import MAX_REPLIES_PER_KIND, Replies
from gridcore.roster import RosterError, parse_roster
from tests.test_roster import VALID, line_of

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

WITH_REPLIES = VALID.replace(
    "  - {code: env, name: 环境卫生, keywords: [垃圾, 堆物], feedback_days: 3}\n",
    """\
  - code: env
    name: 环境卫生
    keywords: [垃圾, 堆物]
    replies:
      progress: ["已通知物业，预计明天处理", "已到现场查看，正在协调"]
      resolve: ["杂物已清理，楼道已畅通"]
""",
) + """\
replies:
  progress: ["已受理，正在处理"]
  resolve: ["问题已处理完毕", "已协调相关单位解决"]
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(RosterError) as caught:
        parse_roster(text, "roster.yaml")
    return [str(p) for p in caught.value.problems]


def test_a_category_has_its_replies_and_the_rest_take_the_community_defaults() -> None:
    community = parse_roster(WITH_REPLIES, "roster.yaml")
    env = community.category("env")
    assert env is not None
    assert env.replies == Replies(("已通知物业，预计明天处理", "已到现场查看，正在协调"),
                                  ("杂物已清理，楼道已畅通",))
    assert community.replies == Replies(("已受理，正在处理",), ("问题已处理完毕", "已协调相关单位解决"))
    assert community.replies_for("env", "progress") == ("已通知物业，预计明天处理", "已到现场查看，正在协调")
    assert community.replies_for("property", "resolve") == ("问题已处理完毕", "已协调相关单位解决")
    assert community.replies_for(None, "progress") == ("已受理，正在处理",)


def test_a_kind_a_category_leaves_out_falls_back_to_the_default() -> None:
    text = WITH_REPLIES.replace('      resolve: ["杂物已清理，楼道已畅通"]\n', "")
    community = parse_roster(text, "roster.yaml")
    assert community.replies_for("env", "resolve") == ("问题已处理完毕", "已协调相关单位解决")


def test_no_replies_anywhere_offers_none() -> None:
    community = parse_roster(VALID, "roster.yaml")
    assert community.replies_for("env", "progress") == ()
    assert community.replies_for("env", "resolve") == ()


@pytest.mark.parametrize(
    ("old", "new", "needle", "words"),
    [
        ('"杂物已清理，楼道已畅通"', '"  "', 'resolve: ["  "]', "must be a non-empty text"),
        ('"杂物已清理，楼道已畅通"', '"' + "很" * 201 + '"', "很很很", "201 characters, at most 200"),
        ("progress: [\"已受理，正在处理\"]", "progres: [\"已受理\"]", "progres:", 'did you mean "progress"'),
        ('resolve: ["杂物已清理，楼道已畅通"]', "resolve: 杂物已清理", "resolve: 杂物已清理",
         "must be a list"),
        ('"已到现场查看，正在协调"', '"已通知物业，预计明天处理"', 'progress: ["已通知', "is listed twice"),
        ('replies:\n  progress: ["已受理，正在处理"]\n  resolve: ["问题已处理完毕", "已协调相关单位解决"]\n',
         "replies: [已受理]\n", "replies: [已受理]", "must be a mapping"),
    ],
)
def test_each_reply_problem_is_on_its_line(old: str, new: str, needle: str, words: str) -> None:
    assert old in WITH_REPLIES
    text = WITH_REPLIES.replace(old, new, 1)
    found = problems_of(text)
    assert any(f"roster.yaml:{line_of(text, needle)}:" in p and words in p for p in found), found


def test_at_most_eight_texts_of_a_kind() -> None:
    many = ", ".join(f'"第{i}条"' for i in range(MAX_REPLIES_PER_KIND + 1))
    text = WITH_REPLIES.replace('progress: ["已受理，正在处理"]', f"progress: [{many}]")
    assert problems_of(text) == [
        f"roster.yaml:{line_of(text, '第8条')}: community replies progress: at most 8 texts "
        "(a phone shows one per row)"]
    eight = ", ".join(f'"第{i}条"' for i in range(MAX_REPLIES_PER_KIND))
    eight_listed = WITH_REPLIES.replace('progress: ["已受理，正在处理"]', f"progress: [{eight}]")
    assert len(parse_roster(eight_listed, "roster.yaml").replies.progress) == MAX_REPLIES_PER_KIND


@pytest.mark.parametrize("example", ["roster.yaml", "cuihu.yaml"])
def test_the_examples_give_every_category_both_kinds(example: str) -> None:
    community = parse_roster((EXAMPLES / example).read_text(encoding="utf-8"), example)
    for category in community.categories:
        assert category.replies.progress and category.replies.resolve, category.code
    assert community.replies.progress and community.replies.resolve


@pytest.mark.memory
async def test_replies_survive_storage(uow_factory) -> None:
    community = parse_roster(WITH_REPLIES, "roster.yaml")
    async with uow_factory() as uow:
        await uow.roster.upsert(community)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.roster.get(community.code)
    assert stored == community
    assert stored is not None and stored.replies_for("env", "resolve") == ("杂物已清理，楼道已畅通",)
    without = parse_roster(VALID, "roster.yaml")
    async with uow_factory() as uow:
        await uow.roster.upsert(without)  # a roster that drops its replies drops them from storage too
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.roster.get(community.code) == without
