"""The ingestion layer's labels, in Chinese and English (merged into lib.i18n.LABELS)."""
from __future__ import annotations

INGEST_LABELS: dict[str, tuple[str, str]] = {  # key -> (Chinese, English)
    # cells and rows, whatever the kind
    "ingest_err_required": ("必填，不能为空。", "Required; must not be empty."),
    "ingest_err_too_long": ("超过 {max} 个字符。", "Longer than {max} characters."),
    "ingest_err_bool": ("须为 是/否（或 1/0、yes/no）。", "Must be yes/no (or 1/0, 是/否)."),
    "ingest_err_date": ("日期无法识别（例：2026-11-01）。", "Not a date (e.g. 2026-11-01)."),
    "ingest_err_time": ("时间无法识别（例：2026-11-01 14:30:00）。", "Not a date and time (e.g. 2026-11-01 14:30:00)."),
    "ingest_err_time_range": ("日期须在 {first} 至 {last} 之间。", "The date must be between {first} and {last}."),
    "ingest_err_phone": ("不是有效的大陆手机号。", "Not a valid mainland mobile number."),
    "ingest_err_code": ("编码只能含小写字母、数字、_ 和 -。", "A code may hold only lower-case letters, digits, _ and -."),
    "ingest_err_repeated_key": ("与前面某一行重复（同一编号在一个文件中只能出现一次）。",
                                "Repeats an earlier row (an id may appear only once per file)."),
    "ingest_err_choice": ("须为以下之一：{choices}。", "Must be one of: {choices}."),
    "ingest_err_positive": ("须大于 0。", "Must be greater than 0."),
    "ingest_profile_headers_absent": ("映射方案中的这些表头在文件中找不到：{names}。", "These headers of the mapping profile are not in the file: {names}."),
    "ingest_missing_one_of": ("缺少必要的列，须有以下一组：{groups}。", "Columns are missing; the file needs one of these groups: {groups}."),
    "ingest_unknown_kind": ("未知的数据类型，可选：{kinds}。", "Unknown kind of data; one of: {kinds}."),
    "ingest_profile_other_kind": ("映射方案“{profile}”用于 {kind}，不能用于这类数据。", "The mapping profile “{profile}” is for {kind}, not this kind of data."),
    "ingest_rollback_later_changes": ("之后的批次又修改了这个批次写入的数据，请先回滚那些批次。",
                                      "A later batch changed rows this batch wrote; roll that batch back first."),
    "ingest_rollback_referenced": ("这个批次新增的数据已被其他数据引用（例如线索引用了经销商），不能回滚。",
                                   "Rows this batch added are referred to by other data (e.g. leads by a dealer); it cannot be rolled back."),
    "ingest_cli_summary": ("{status}：批次 {batch_id}，{rows} 行：新增 {new}，更新 {updated}，重复 {duplicate}，未变 {unchanged}，拒绝 {refused}。",
                           "{status}: batch {batch_id}, {rows} rows: {new} new, {updated} updated, {duplicate} duplicate, "
                           "{unchanged} unchanged, {refused} refused."),
    "ingest_cli_more_problems": ("另有 {count} 处问题未列出（--json 输出全部）。", "{count} more problem(s) not listed (--json prints all)."),
    "action_ingest_load": ("数据导入", "Data loaded"),
    "action_ingest_rollback": ("导入回滚", "Load rolled back"),
    # mapping profiles
    "profile_too_long": ("映射方案超过 {max} 个字符。", "The mapping profile is longer than {max} characters."),
    "profile_bad_toml": ("映射方案不是有效的 TOML：{reason}", "The mapping profile is not valid TOML: {reason}"),
    "profile_unknown_section": ("映射方案中有未知的段：{names}（只允许 [profile]、[columns]、[values.字段]）。",
                                "Unknown section(s) in the mapping profile: {names} (only [profile], [columns], [values.FIELD])."),
    "profile_bad_kind": ("[profile] 的 kind 须为以下之一：{kinds}。", "[profile] kind must be one of: {kinds}."),
    "profile_bad_name": ("方案名称不能为空，最多 {max} 个字符。", "The profile's name must not be empty and can have at most {max} characters."),
    "profile_not_table": ("[{section}] 须是一个表（键 = 值）。", "[{section}] must be a table (key = value)."),
    "profile_unknown_field": ("[{section}] 中的 “{field}” 不是 {kind} 的字段。", "“{field}” in [{section}] is not a field of {kind}."),
    "profile_not_text": ("[{section}] 中的值须为文字。", "Values in [{section}] must be text."),
    "profile_bad_text": ("[{section}] 中的值不能为空，最多 {max} 个字符。", "Values in [{section}] must not be empty and can have at most {max} characters."),
    "profile_repeated_header": ("[columns] 中同一表头对应了多个字段：{headers}。", "[columns] maps one header to several fields: {headers}."),
    "profile_format_not_time": ("{field} 不是日期或时间字段，不能设置格式。", "{field} is not a date or time field; it takes no format."),
    "profile_bad_format": ("{field} 的格式须为 epoch_ms、epoch_s 或 strftime 格式（如 %Y/%m/%d %H:%M）。",
                           "{field}'s format must be epoch_ms, epoch_s or a strftime pattern (e.g. %Y/%m/%d %H:%M)."),
    "profile_bad_encoding": ("编码须为以下之一：{names}（不填则自动识别）。", "The encoding must be one of: {names} (or left out to detect it)."),
    # master data and channel facts

    # leads and lead progress

    # members and points

    # the import page

}
