{% macro star(from, except=[]) -%}
    {{ return(adapter.dispatch('star', 'shop_utils')(from, except)) }}
{%- endmacro %}

{% macro default__star(from, except) -%}
    {%- if not execute -%}
        {{ return('*') }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(from) -%}
    {%- set names = [] -%}
    {%- for column in columns if column.name | lower not in except -%}
        {%- do names.append(column.name) -%}
    {%- endfor -%}
    {{ return(names | join(', ') if names else '*') }}
{%- endmacro %}
