"""Turn markdown interview-prep notes into a question bank (``rehearse import``).

Reads YAML front matter, ``#`` headings (topics), ``一、`` lines (numbered question
headings) and bullets that end in ``？`` or name a question (``介绍…``, ``什么是…``,
``…的区别``); bullets and paragraphs under a question are its answer material, a
sub-question with material adds to its parent's rubric and one without becomes a
follow-up. Navigation lines, notes-to-self and everything after "相关文章" are
ignored. A point is drafted per material bullet or sentence group, with phrases the
material is checked to contain; questions without material are ``draft: true``.
An existing bank is overwritten only with ``force``, else new questions are merged in.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypinyin import Style, lazy_pinyin

from rehearse.bank_yaml import Flow, append_questions, dump_bank, merge_banks, safe_load
from rehearse.errors import NotesError
from rehearse.files import write_text
from rehearse.matching import Matcher
from rehearse.normalize import han_count, normalize
from rehearse.rubric import parse_bank

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff"
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_CN_HEADING = re.compile(r"^\s*([一二三四五六七八九十]{1,3})\s*[、.．]\s*(.+)$")
_BULLET = re.compile(r"^(\s*)(?:[*+\-•·●▪]|\d{1,3}[.)）、])\s+(.*)$")
_LATIN_TERM = re.compile(r"[A-Za-z0-9]+(?:[-·'][A-Za-z0-9]+)*")
_END = "。！？!?；;"
_LABELLED = re.compile(r"^([^：:]{1,20}|[^：:]{1,40}[)）])[：:]\s*(.{10,})$")
_Q_START = re.compile(r"^(请|简单)?(介绍|简介|简述|讲讲|讲一下|说说|说一下|谈谈|聊聊|解释|描述|阐述|比较|什么是|如何|怎么|怎样|为什么|为何)")
_Q_CUE = re.compile(r"(是什么|什么是|有哪些|哪些|区别|异同|原理|为什么|为何|如何|怎么|怎样|优缺点|优势|初衷|什么|的理解|的了解|吗$)")
_INTRO_SUBJECT = re.compile(r"^(?:请|简单)?(?:介绍|讲讲|说说|谈谈)(?:一下)?(?:你的|你们的)?\s*(.+?)[？?。]?$")
_NAVIGATION = re.compile(r"当前位置|首页\s*[>›»]|^\s*>|^正文$|上一篇|下一篇|版权声明|责任编辑|原文链接|本文链接|扫码|关注公众号|阅读全文")
_DEBRIS_START = re.compile(r"^\s*(相关文章|相关推荐|推荐阅读|相关阅读|热门文章|热门推荐|猜你喜欢|延伸阅读|最新文章|精彩推荐)\s*[:：]?\s*$")
_SELF_NOTE = re.compile(r"^(看一下|看看|看自己|再看|回顾|复习|记得|回头|待补充|待整理|待完善|TODO|todo)")
_NOT_A_QUESTION_HEADING = re.compile(r"参考|资料|链接|目录|总结|references?|links?|todo", re.IGNORECASE)
# Chinese function words that end a noun phrase (longest first), and words that only look like them.
_STOP_WORDS = sorted("""我们 你们 他们 它们 这个 那个 这些 那些 这样 这种 一个 一种 一组 一些 可以 能够 通过 使用 利用
进行 实现 以及 并且 而且 但是 然后 首先 其次 接下来 最后 同时 因为 所以 如果 就是 还是 或者 比如 例如 其中 之间 之后
之前 时候 的话 主要 基于 根据 作为 得到 包括 包含 负责 称为 叫做 不是 而是 非常 很多 所有 每个 整个 那么 如何 什么
怎么 怎样 为什么 是否 这里 一下 其他 其它 无法 不能 可能 需要 已经 只是 也是 就会 会被 具有 对于 关于 由于 从而 并不
却 的 了 是 在 和 与 及 或 把 被 将 从 也 都 就 又 很 而 但 即 这 那 他 她 它 我 你 让 等 则 为 中 到 说 要 还""".split(),
                     key=len, reverse=True)
_PROTECTED = tuple("""潜在 存在 现在 所在 正在 实在 内在 了解 为了 除了 获得 取得 使得 值得 总和 参与 将来 即将 成就 反而
从而 进而 自我 如下 等价 相等 等于 平等 规则 正则 认为 成为 行为 中间 中心 中文 集中 达到 到达 做到 学到 受到 说明 重要
要素 还原""".split())
_GENERIC = set("""方法 模型 数据 问题 工作 东西 过程 部分 信息 方式 思路 效果 能力 任务 研究 领域 技术 介绍 原理 基本 具体
不同 当前 简单 总结 文章 例子 应用 内容 结果 版本 情况 作用 特点 目标 框架 相关 重要 方面 最新 做法 模块 生成 优化 训练
学习 不好 有问题 对应 区域 图像 文本 图片 组件 样子""".split())
_EN_STOP = {"for", "of", "the", "a", "an", "and", "or", "to", "in", "on", "with", "is", "are", "by", "from", "as", "at"}
_GOOD_SUFFIX = ("性", "器", "图", "化", "量", "度", "率", "法", "块", "层", "码", "模", "网络", "学习", "训练", "损失",
                "样本", "空间", "特征", "向量", "分布", "渲染", "对齐", "融合", "补全", "解耦", "编码", "注意力", "生成", "去噪", "加噪")
MAX_POINTS = 7
MAX_PHRASES = 6


@dataclass
class _Node:
    """One bullet or paragraph of the notes, with what is nested under it."""

    text: str
    line: int
    indent: int = 0
    bullet: bool = True
    children: list[_Node] = field(default_factory=list)


@dataclass
class NoteQuestion:
    """A question found in the notes: its text, line, heading path and answer material."""

    text: str
    line: int
    topic: str = ""
    material: list[_Node] = field(default_factory=list)


@dataclass(frozen=True)
class NotesDocument:
    """Parsed notes: the title (front matter, first heading or line) and the questions in order."""

    title: str
    questions: tuple[NoteQuestion, ...]


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_notes` found and did (``action``: written, overwritten, merged or unchanged)."""

    path: Path
    action: str
    question_ids: tuple[str, ...]
    drafts: int
    added: tuple[str, ...] = ()
    kept: int = 0
    problems: tuple[str, ...] = ()
    #: (drafted id, id given) for questions renamed because another bank already uses the id
    renamed: tuple[tuple[str, str], ...] = ()


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(rf"(?<=[{_HAN}])\s+(?=[{_HAN}])", "", re.sub(r"\*\*|__|`", "", text).strip()))


def is_question(text: str) -> bool:
    """True when a bullet or heading asks (or names) an interview question."""
    t = text.strip().rstrip("。.:： ")
    labelled = _LABELLED.match(t)
    if labelled and not labelled.group(1).endswith(("?", "？")):
        return False  # "研究动机：……" is labelled material, not a question
    if t.endswith(("?", "？")):
        return len(t) <= 80
    return len(t) <= 40 and "。" not in t and bool(_Q_START.search(t) or _Q_CUE.search(t))


#: bullets nested deeper than this are kept, as siblings at this depth (no notes need more; recursion stays bounded)
MAX_DEPTH = 24


def _sections(body: str, offset: int) -> tuple[list[tuple[str, int, list[_Node], list[str]]], str]:
    """Split the body into (heading, line, nodes, heading path) sections; also return a fallback title."""
    sections: list[tuple[str, int, list[_Node], list[str]]] = [("", 0, [], [])]
    path: list[tuple[int, str]] = []
    stack: list[_Node] = []
    last: _Node | None = None
    title, debris, blank_before = "", False, False
    for i, raw in enumerate(body.split("\n")):
        line_no, line = offset + i + 1, raw.replace("\t", "    ").rstrip()
        if not line.strip():
            blank_before = True
            continue
        heading, bullet = _HEADING.match(line), _BULLET.match(line)
        cn = None if bullet or heading else _CN_HEADING.match(line)
        if heading:
            debris, level, text = False, len(heading.group(1)), _clean(heading.group(2))
            path = [p for p in path if p[0] < level] + [(level, text)]
            title = title or (text if level == 1 else "")
        if debris or (not heading and _NAVIGATION.search(line)):
            continue
        if _DEBRIS_START.match(line):
            debris = True
            continue
        if heading or (cn and len(line.strip()) <= 80):
            found = heading or cn
            assert found is not None
            text = _clean(found.group(2))
            sections.append((text, line_no, [], [p[1] for p in (path[:-1] if heading else path)]))
            stack, last = [], None
            continue
        nodes = sections[-1][2]
        indent = len(bullet.group(1)) if bullet else len(line) - len(line.lstrip())
        text = _clean(bullet.group(2) if bullet else line)
        if not bullet and last is not None and (not blank_before or (
                not last.bullet and len(last.text) >= 20 and last.text[-1] not in _END + "：:")) \
                and (indent > 0 or not last.bullet or not blank_before):  # a continued line or paragraph
            sep = " " if re.match(r"[A-Za-z]", text) and re.search(r"[A-Za-z]$", last.text) else ""
            last.text += sep + text
        else:
            cn_item = _CN_HEADING.match(text) if bullet else None
            node = _Node(_clean(cn_item.group(2)) if cn_item else text, line_no, indent, bullet=bool(bullet))
            while stack and stack[-1].indent >= indent:
                stack.pop()
            (stack[-1].children if stack else nodes).append(node)
            if bullet and len(stack) < MAX_DEPTH:  # deeper bullets stay siblings at the deepest level
                stack.append(node)
            elif not title and len(sections) == 1 and not any(n.bullet for n in nodes) and len(text) <= 40:
                title = text
            last = node
        blank_before = False
    return sections, title


def _flatten(nodes: list[_Node]) -> list[_Node]:
    return [x for n in nodes for x in (n, *_flatten(n.children))]


def _has_question(node: _Node) -> bool:
    return any((c.bullet and is_question(c.text)) or _has_question(c) for c in node.children)


def _material(nodes: list[_Node]) -> list[_Node]:
    return [n for n in nodes if not _SELF_NOTE.match(n.text) and normalize(n.text)]


def _make_question(node: _Node, topic: str, out: list[NoteQuestion]) -> NoteQuestion:
    m = re.match(r"^(.+?[？?])\s*(\S.{5,})$", node.text)  # "问题？答案……" on one line
    q = NoteQuestion(m.group(1) if m else node.text, node.line, topic, [_Node(m.group(2), node.line)] if m else [])
    out.append(q)
    subject = _INTRO_SUBJECT.match(q.text)
    for child in node.children:
        if child.bullet and is_question(child.text):
            if _material(child.children):
                q.material.extend(_material(child.children))
            else:
                follow = f"{subject.group(1)}：{child.text}" if subject else child.text
                out.append(NoteQuestion(follow, child.line, topic))
        elif _has_question(child):
            _walk(child.children, topic, out)
        elif _material([child]):
            q.material.append(child)
    return q


def _walk(nodes: list[_Node], topic: str, out: list[NoteQuestion]) -> None:
    current: NoteQuestion | None = None
    for node in nodes:
        if node.bullet and is_question(node.text):
            current = _make_question(node, topic, out)
        elif _has_question(node):
            _walk(node.children, topic, out)
            current = None
        elif current is not None and _material([node]):
            current.material.append(node)


def parse_notes(text: str) -> NotesDocument:
    """Parse markdown notes into questions with their answer material (see module docstring)."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    m = re.match(r"^---[ \t]*\n(.*?)\n---[ \t]*(\n|$)", text, re.DOTALL)  # front matter
    front = safe_load(m.group(1)) if m else None
    sections, fallback_title = _sections(text[m.end():] if m else text, m.group(0).count("\n") if m else 0)
    flat = [n for _, _, nodes, _ in sections for n in _flatten(nodes)]
    asked = {normalize(n.text) for n in flat if n.bullet and is_question(n.text)}
    found: list[NoteQuestion] = []
    for heading, line, nodes, path in sections:
        parent = " › ".join(path)
        if heading and (is_question(heading) or normalize(heading) in asked):
            _make_question(_Node(heading, line, children=nodes), parent, found)
        elif heading and any(n.bullet for n in nodes) and not _NOT_A_QUESTION_HEADING.search(heading) \
                and not any(_has_question(n) or (n.bullet and is_question(n.text)) for n in nodes):
            _make_question(_Node(heading, line, children=[n for n in nodes if n.bullet]), parent, found)
        else:
            _walk(nodes, " › ".join([*path, heading] if heading else path), found)
    merged: dict[str, NoteQuestion] = {}
    for q in found:  # a table of contents repeats the questions: keep one, with the material
        prev = merged.setdefault(normalize(q.text), q)
        if prev is not q:
            prev.line = q.line if q.material and not prev.material else prev.line
            prev.material.extend(q.material)
            prev.text = q.text if q.text.endswith(("?", "？")) else prev.text
    title = str((front.get("title") if isinstance(front, dict) else None) or fallback_title or "").strip()
    return NotesDocument(title=title, questions=tuple(merged.values()))


def _subtree_text(node: _Node) -> str:
    if not node.children:
        return node.text
    kids = "；".join(_subtree_text(c).rstrip("；;") for c in node.children)
    short_label = len(node.text) <= 12 and not re.search(rf"[{_END}：:]$", node.text)
    return f"{node.text}{'：' if short_label else ' '}{kids}"


def _sentence_groups(text: str, size: int = 60) -> list[str]:
    groups: list[str] = []
    for s in re.findall(rf"[^{_END}]+[{_END}]?", text):
        if groups and len(groups[-1]) < size:
            groups[-1] += s
        elif normalize(s):
            groups.append(s)
    if len(groups) > 1 and len(groups[-1]) < size // 3:
        groups[-2:] = [groups[-2] + groups[-1]]
    return groups


def _point_texts(material: list[_Node]) -> list[tuple[str, str]]:
    """(label prefix, text) per point: one per bullet, sentence groups for long unlabelled text."""
    texts: list[tuple[str, str]] = []
    intro = ""
    for node in material:
        t = node.text
        if not node.bullet and t.endswith(("：", ":")) and len(t) <= 30 and not node.children:
            intro = t  # "常用的损失函数包括：" introduces the list that follows
            continue
        if len(node.children) >= 2 and len(t) <= 8 and not re.search(rf"[{_END}]", t):
            texts.extend((f"{t}：", _subtree_text(c)) for c in node.children)
        elif not node.children and len(t) > 80 and not _LABELLED.match(t) and len(_sentence_groups(t)) > 1:
            texts.extend((intro, g) for g in _sentence_groups(t))
        else:
            texts.append((intro, _subtree_text(node)))
        intro = ""
    while len(texts) > MAX_POINTS:  # merge the shortest neighbours
        i = min(range(len(texts) - 1), key=lambda k: len(texts[k][1]) + len(texts[k + 1][1]))
        texts[i:i + 2] = [(texts[i][0], texts[i][1] + texts[i + 1][1])]
    return texts


def _latin_terms(text: str) -> list[str]:
    terms: list[str] = []
    for run in re.findall(r"[A-Za-z0-9][A-Za-z0-9\-·' ]*[A-Za-z0-9]|[A-Za-z]{2,}", text):
        words: list[str] = []
        for w in run.split() + [""]:
            if w and w.lower() not in _EN_STOP and _LATIN_TERM.fullmatch(w):
                words.append(w)
            elif words:  # at most three words a term
                terms.extend(" ".join(words[k:k + 3]) for k in range(0, len(words), 3))
                words = []
    return [t for t in terms if sum(c.isalpha() for c in t) >= 2]


def _han_candidates(text: str) -> list[str]:
    segs, buf, i = [], "", 0
    while i < len(text):
        word = next((p for p in _PROTECTED if text.startswith(p, i)), None)
        stop = None if word else next((w for w in _STOP_WORDS if text.startswith(w, i)), None)
        ch = text[i]
        inner_hyphen = ch == "-" and buf[-1:].isalnum() and text[i + 1:i + 2].isalnum()
        if word or not (stop or not (re.match(rf"[{_HAN}A-Za-z0-9]", ch) or inner_hyphen)):
            buf, i = buf + (word or ch), i + len(word or ch)
        else:
            segs.append(buf)
            buf, i = "", i + len(stop or ch)
    out: list[str] = []
    for s in [*segs, buf]:
        n = han_count(s)
        if n == len(s) and n > 6:  # too long to be one term: keep a tail that ends like a noun
            out.extend([s[-4:]] if s.endswith(_GOOD_SUFFIX) else [])
        elif n and (n >= 2 or n < len(s)) and len(s) <= 12:
            out.append(s)
    return [c for c in out if c not in _GENERIC]


def extract_phrases(text: str, exclude: str = "", limit: int = MAX_PHRASES) -> list[str]:
    """English terms, then Chinese noun phrases, of ``text`` that the matcher finds in it, minus ``exclude``'s."""
    skip, han, matcher = normalize(exclude), Counter(_han_candidates(text)), Matcher(text)
    ranked = sorted(han, key=lambda c: (-c.endswith(_GOOD_SUFFIX), -(3 <= han_count(c) <= 5), -han[c], -len(c)))
    chosen: list[str] = []
    for cand in _latin_terms(text)[:3] + ranked:
        key = normalize(cand)
        if key and key not in skip and not any(normalize(c) in key or key in normalize(c) for c in chosen) \
                and matcher.find(cand) is not None:
            chosen.append(cand)
        if len(chosen) >= limit:
            break
    return chosen


def slug(text: str, max_parts: int = 6) -> str:
    """A readable ``[a-z0-9-]`` id: English words as they are, Chinese as toneless pinyin."""
    text = re.sub(r"^(请|简单)?(介绍一下|介绍|说说|谈谈|讲讲)|你的|你们的|什么是|是什么|什么|主要|一下|基本的?", "", text)
    parts: list[str] = []
    for tok in re.findall(rf"[A-Za-z0-9]+|[{_HAN}]", text):
        if tok not in "的了是在和与及或吗呢":
            parts.extend([tok.lower()] if tok.isascii() else lazy_pinyin(tok, style=Style.NORMAL))
    return "-".join(p for p in (re.sub(r"[^a-z0-9]", "", p) for p in parts[:max_parts]) if p)


def _unique(base: str, taken: set[str]) -> str:
    out, k = base, 2
    while out in taken:
        out, k = f"{base}-{k}", k + 1
    taken.add(out)
    return out


def _label(prefix: str, text: str) -> str:
    colon = re.search(r"[：:]", text[:60])
    head = text[:colon.start()] if colon and (colon.start() <= 16 or han_count(text[:colon.start()]) < 4) else ""
    body = head or re.split(rf"[，,{_END}]", text, maxsplit=1)[0]
    return (prefix + (body if len(body) <= 40 else body[:40] + "…")).strip() or text[:40]


def draft_bank(doc: NotesDocument, *, source: str = "notes", tags: tuple[str, ...] = (),
                reserved: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A bank (as plain data) with a drafted rubric for every question of ``doc``.

    Ids in ``reserved`` (questions of other banks) are not used: 'moco' becomes 'moco-2'.
    """
    taken: set[str] = set(reserved)
    questions: list[dict[str, Any]] = []
    for q in doc.questions:
        entry: dict[str, Any] = {"id": _unique(slug(q.text) or f"q{len(questions) + 1}", taken), "question": q.text}
        if q.topic:
            entry["tags"] = Flow([q.topic.split(" › ")[-1].strip().lower()])
        points: list[dict[str, Any]] = []
        pids: set[str] = set()
        for prefix, text in _point_texts(q.material):
            if phrases := extract_phrases(text, exclude=q.text):
                label = _label(prefix, text)
                points.append({"id": _unique(slug(label, 4) or f"p{len(points) + 1}", pids), "label": label,
                               "any": Flow(phrases)})
        where = f"导入自 {source}:{q.line}" + (f"（{q.topic}）" if q.topic else "")
        body = list(q.material)
        while body and not body[-1].bullet and body[-1].text.endswith(("：", ":")):
            body.pop()  # a list intro whose list was not material
        if points:
            entry.update(points=points, reference="\n".join(_subtree_text(n) for n in body) + "\n",
                         notes=f"要点和短语是自动起草的，请检查。{where}")
        else:
            entry.update(draft=True, points=[],
                         notes=f"草稿：笔记里没有答案，请补充 points 和 reference，再把 draft 改成 false。{where}")
        questions.append(entry)
    return {"title": doc.title or Path(source).stem,
            "language": "zh" if any(han_count(q.text) for q in doc.questions) else "en",
            **({"tags": Flow(dict.fromkeys(tags))} if tags else {}),
            "description": f"由 rehearse import 从 {source} 起草的题库：要点请逐条检查，draft 题需要自己补充。",
            "questions": questions}


def import_notes(notes: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, *,
                 tags: tuple[str, ...] | list[str] = (), force: bool = False) -> ImportResult:
    """Read ``notes``, draft a bank and write it to ``out`` (default: the notes path with ``.yaml``).
    An existing ``out`` is overwritten only with ``force``; otherwise new questions are appended to it."""
    src = Path(notes)
    if not src.is_file():
        raise NotesError(f"{src}: no such notes file.")
    try:
        doc = parse_notes(src.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise NotesError(f"{src}: not UTF-8 text.") from None
    dest = Path(out) if out is not None else src.with_suffix(".yaml")
    if dest.resolve() == src.resolve():
        raise NotesError(f"{dest}: the bank would overwrite the notes; choose another --out.")
    if not doc.questions:
        raise NotesError(f"{src}: no questions found. Write each question as a bullet or heading that ends "
                         "in '？' or names one (介绍…, 什么是…, …的区别).")
    reserved = other_bank_ids(dest)
    fresh = draft_bank(doc, source=src.name, tags=tuple(tags), reserved=reserved)
    renamed = tuple((slug(q.text), e["id"]) for q, e in zip(doc.questions, fresh["questions"])
                    if slug(q.text) in reserved)
    ids, drafts = tuple(q["id"] for q in fresh["questions"]), sum(1 for q in fresh["questions"] if q.get("draft"))
    added, kept = ids, 0
    if dest.exists() and not force:
        existing = safe_load(old_text := dest.read_text(encoding="utf-8"))
        if not isinstance(existing, dict) or not isinstance(existing.get("questions", []), list):
            raise NotesError(f"{dest} exists and is not a question bank; pass --force to overwrite it "
                             "or choose another --out.")
        merged, new, kept = merge_banks(existing, fresh)
        added = tuple(q["id"] for q in new)
        if not new:
            return ImportResult(dest, "unchanged", ids, drafts, (), kept, renamed=renamed)
        action, body = "merged", append_questions(old_text, new)
        if body is None or safe_load(body) != safe_load(dump_bank(merged)):
            body = dump_bank(merged)  # the file's layout does not allow a plain append: rewrite it
    else:
        action, body = ("overwritten" if dest.exists() else "written"), dump_bank(fresh)
    problems = tuple(parse_bank(body, dest)[1])  # only ever the user's own, in a merged bank
    write_text(dest, body)
    return ImportResult(dest, action, ids, drafts, added, kept, problems, renamed)


def other_bank_ids(dest: Path) -> frozenset[str]:
    """Question ids already used by the shipped banks and the other banks beside ``dest`` (not ``dest`` itself)."""
    from rehearse.rubric import shipped_bank_paths

    paths = set(shipped_bank_paths())
    if dest.parent.is_dir():
        paths |= set(dest.parent.glob("*.yaml")) | set(dest.parent.glob("*.yml"))
    ids: set[str] = set()
    for p in paths:
        if p.resolve() == dest.resolve():
            continue
        try:
            data = safe_load(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        for q in (data.get("questions") or []) if isinstance(data, dict) else []:
            if isinstance(q, dict) and isinstance(q.get("id"), str):
                ids.add(q["id"])
    return frozenset(ids)
