{% macro source(source_name, table_name) %}
    {% set seen = [] %}
    {% do seen.append(table_name) %}
    {{ return(builtins.source(source_name, table_name)) }}
{% endmacro %}
