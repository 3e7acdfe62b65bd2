"""The content library's addresses: the core serves them at /content-blocks/, and workflows at
its old addresses (/workflows/content-blocks/), from this one list."""

from __future__ import annotations

from django.urls import path

from sodium.views import content_blocks

content_block_urls = [
    path("content-blocks/", content_blocks.content_block_list, name="content-block-list"),
    path("content-blocks/new/", content_blocks.content_block_create, name="content-block-create"),
    path(
        "content-blocks/preview/",
        content_blocks.content_block_preview,
        name="content-block-preview",
    ),
    path(
        "content-blocks/built-in/<str:key>/",
        content_blocks.content_block_system_edit,
        name="content-block-system-edit",
    ),
    path(
        "content-blocks/<int:content_block_id>/",
        content_blocks.content_block_edit,
        name="content-block-edit",
    ),
    path(
        "content-blocks/<int:content_block_id>/delete/",
        content_blocks.content_block_delete,
        name="content-block-delete",
    ),
]
