"""Rebuild the article search index (after the power-domain dictionary changed, or a restore)."""

from django.core.management.base import BaseCommand

from powerdesk.content.services import articles_reindex


class Command(BaseCommand):
    help = "重建图文全文检索索引（用当前词典重新分词）。"

    def handle(self, *args, **options):
        count = articles_reindex()
        self.stdout.write(f"已重建 {count} 篇图文的检索索引。")
