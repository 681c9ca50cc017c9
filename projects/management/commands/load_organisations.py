from django.core.management.base import BaseCommand, CommandError

from projects.organisations import TreeFileError, load_tree


class Command(BaseCommand):
    help = "导入组织树（CSV：代码,名称,层级,上级代码）：全部校验通过才写入，重复导入就地更新。"

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, **opts):
        try:
            created, updated = load_tree(opts["file"])
        except TreeFileError as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(f"导入失败：{len(exc.errors)} 处错误，未写入任何数据。")
        self.stdout.write(f"组织：新建 {created} 个，更新 {updated} 个。")
